package embed

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/colsmol/colsmol/internal/modelbuild/onnxpb"
)

// composeSingleGraph writes a model folder in the single-graph layout (onnx/model.onnx with input_ids,
// attention_mask, pixel_values, pixel_attention_mask -> embeddings) made by wiring the three split graphs
// of splitDir together in ONE ONNX graph, the way the public single-graph exports compute:
//
//	features = Flatten(vision_encoder(pixel_values, pixel_attention_mask))       [rows, D]
//	table    = Concat(zeros[1, D], features)                                    row 0 = "no image"
//	k        = CumSum(ids == image_token) * (ids == image_token)                 k-th <image> -> row k
//	embeds   = Where(ids == image_token, Gather(table, k), embed_tokens(ids))
//	pos      = (CumSum(attention_mask) - 1) * attention_mask
//	embeddings = text_embeddings(embeds, attention_mask, pos)
//
// The configs and tokenizer files are copied, so the folder is complete.
func composeSingleGraph(t testing.TB, splitDir string, imageToken int64) string {
	t.Helper()
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(splitDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(splitDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func(name string) *onnxpb.ModelProto {
		b, err := os.ReadFile(filepath.Join(splitDir, "onnx", name))
		if err != nil {
			t.Fatal(err)
		}
		m := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(b, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	vision, tokens, text := load("vision_encoder.onnx"), load("embed_tokens.onnx"), load("text_embeddings.onnx")
	d := tokens.Graph.Output[0].Type.GetTensorType().Shape.Dim[2].GetDimValue()

	g := &onnxpb.GraphProto{Name: proto.String("colsmol_single")}
	absorb := func(src *onnxpb.GraphProto, prefix string, bind map[string]string) {
		rename := func(n string) string {
			if n == "" {
				return ""
			}
			if b, ok := bind[n]; ok {
				return b
			}
			return prefix + n
		}
		for _, n := range src.Node {
			n = proto.Clone(n).(*onnxpb.NodeProto)
			for i := range n.Input {
				n.Input[i] = rename(n.Input[i])
			}
			for i := range n.Output {
				n.Output[i] = rename(n.Output[i])
			}
			n.Name = proto.String(prefix + n.GetName())
			g.Node = append(g.Node, n)
		}
		for _, init := range src.Initializer {
			init = proto.Clone(init).(*onnxpb.TensorProto)
			init.Name = proto.String(rename(init.GetName()))
			g.Initializer = append(g.Initializer, init)
		}
	}
	absorb(vision.Graph, "v/", map[string]string{"pixel_values": "pixel_values", "pixel_attention_mask": "pixel_attention_mask"})
	absorb(tokens.Graph, "e/", map[string]string{"input_ids": "input_ids"})

	i64 := func(name string, dims []int64, v ...int64) {
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims,
			DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: v})
	}
	i64("m/image_token", nil, imageToken)
	i64("m/one", nil, 1)
	i64("m/zero", nil, 0)
	i64("m/flat", []int64{1}, -1)
	i64("m/axis1", []int64{1}, 1)
	i64("m/flat2", []int64{2}, -1, d)
	g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String("m/zero_row"), Dims: []int64{1, d},
		DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: make([]float32, d)})
	node := func(op string, in []string, out string, attrs ...*onnxpb.AttributeProto) {
		g.Node = append(g.Node, &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: []string{out}, Name: proto.String(out), Attribute: attrs})
	}
	intAttr := func(name string, v int64) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
	}
	node("Flatten", []string{"v/image_features"}, "m/features", intAttr("axis", 2))
	node("Concat", []string{"m/zero_row", "m/features"}, "m/table", intAttr("axis", 0))
	node("Reshape", []string{"input_ids", "m/flat"}, "m/ids")
	node("Equal", []string{"m/ids", "m/image_token"}, "m/is_image")
	node("Cast", []string{"m/is_image"}, "m/is_image_i", intAttr("to", int64(onnxpb.TensorProto_INT64)))
	node("CumSum", []string{"m/is_image_i", "m/zero"}, "m/count")
	node("Mul", []string{"m/count", "m/is_image_i"}, "m/row")
	node("Gather", []string{"m/table", "m/row"}, "m/image_rows", intAttr("axis", 0))
	node("Reshape", []string{"e/inputs_embeds", "m/flat2"}, "m/token_rows")
	node("Unsqueeze", []string{"m/is_image", "m/axis1"}, "m/is_image_col")
	node("Where", []string{"m/is_image_col", "m/image_rows", "m/token_rows"}, "m/merged_rows")
	node("Shape", []string{"e/inputs_embeds"}, "m/embeds_shape")
	node("Reshape", []string{"m/merged_rows", "m/embeds_shape"}, "m/inputs_embeds")
	node("CumSum", []string{"attention_mask", "m/one"}, "m/mask_count")
	node("Sub", []string{"m/mask_count", "m/one"}, "m/pos_raw")
	node("Mul", []string{"m/pos_raw", "attention_mask"}, "m/position_ids")
	absorb(text.Graph, "t/", map[string]string{"inputs_embeds": "m/inputs_embeds", "attention_mask": "attention_mask",
		"position_ids": "m/position_ids", "embeddings": "embeddings"})

	g.Input = []*onnxpb.ValueInfoProto{
		tokens.Graph.Input[0], // input_ids
		text.Graph.Input[1],   // attention_mask
		vision.Graph.Input[0], // pixel_values
		vision.Graph.Input[1], // pixel_attention_mask
	}
	g.Output = []*onnxpb.ValueInfoProto{text.Graph.Output[0]}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), ProducerName: proto.String("colsmol embed test"),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}}, Graph: g}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "onnx", "model.onnx"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
