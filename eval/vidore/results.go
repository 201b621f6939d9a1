package vidore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Results is a results document in the layout of vidore-benchmark's ViDoReBenchmarkResults, as written by
// `vidore-benchmark evaluate-retriever` (pydantic model_dump_json(indent=4)).
type Results struct {
	// Timestamp is written as a naive local ISO time, as Python's datetime.now().isoformat().
	Timestamp time.Time
	// Version fills metadata.vidore_benchmark_version; colsmol writes its own name and version there.
	Version string
	// Extra are further metadata fields, written after the two standard ones in this order.
	Extra []Field
	// Datasets hold each dataset's metrics, in evaluation order.
	Datasets []DatasetMetrics
}

// Field is one extra metadata entry.
type Field struct {
	Key, Value string
}

// DatasetMetrics are the metrics of one dataset under its name.
type DatasetMetrics struct {
	Name    string
	Metrics Metrics
}

// MarshalJSON writes the document as pydantic does: 4-space indentation, keys in order, floats in shortest
// round-trip form with ".0" kept, scientific notation outside [1e-5, 1e16), NaN and infinities as null, and
// no trailing newline.
func (r *Results) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n    \"metadata\": {\n")
	meta := append([]Field{
		{"timestamp", PythonTimestamp(r.Timestamp)},
		{"vidore_benchmark_version", r.Version},
	}, r.Extra...)
	for i, f := range meta {
		fmt.Fprintf(&b, "        %s: %s", jsonString(f.Key), jsonString(f.Value))
		b.WriteString(sep(i, len(meta)))
	}
	b.WriteString("    },\n    \"metrics\": ")
	if len(r.Datasets) == 0 {
		b.WriteString("{}\n}")
		return b.Bytes(), nil
	}
	b.WriteString("{\n")
	for i, d := range r.Datasets {
		fmt.Fprintf(&b, "        %s: ", jsonString(d.Name))
		if len(d.Metrics) == 0 {
			b.WriteString("{}")
		} else {
			b.WriteString("{\n")
			for j, m := range d.Metrics {
				fmt.Fprintf(&b, "            %s: %s", jsonString(m.Name), PydanticFloat(m.Value))
				b.WriteString(sep(j, len(d.Metrics)))
			}
			b.WriteString("        }")
		}
		b.WriteString(sep(i, len(r.Datasets)))
	}
	b.WriteString("    }\n}")
	return b.Bytes(), nil
}

func sep(i, n int) string {
	if i < n-1 {
		return ",\n"
	}
	return "\n"
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// PythonTimestamp formats t as Python's naive datetime.isoformat(): YYYY-MM-DDTHH:MM:SS.ffffff in local time,
// the fraction left out when the microseconds are 0.
func PythonTimestamp(t time.Time) string {
	t = t.Local()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s
}

// PydanticFloat formats x as pydantic's JSON serialiser does: shortest round-trip digits, decimal notation
// with ".0" kept for 1e-5 ≤ |x| < 1e16 (and 0), otherwise scientific notation such as 1e-6, 1.5e-7 or 1e+16;
// NaN and infinities become null.
func PydanticFloat(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "null"
	}
	a := math.Abs(x)
	if a == 0 || (a >= 1e-5 && a < 1e16) {
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(x, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[:1]
	digits := strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + digits
}

// ParseResults reads a results document (the layout MarshalJSON writes, or any vidore-benchmark results file
// in that layout), keeping the order of datasets and metrics. null values become NaN.
func ParseResults(data []byte) (*Results, error) {
	var raw struct {
		Metadata json.RawMessage `json:"metadata"`
		Metrics  json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	r := &Results{}
	meta, err := orderedObject(raw.Metadata)
	if err != nil {
		return nil, fmt.Errorf("results metadata: %w", err)
	}
	for _, kv := range meta {
		var s string
		if json.Unmarshal(kv.value, &s) != nil {
			s = string(kv.value)
		}
		switch kv.key {
		case "timestamp":
			if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999", s, time.Local); err == nil {
				r.Timestamp = t
			}
		case "vidore_benchmark_version":
			r.Version = s
		default:
			r.Extra = append(r.Extra, Field{kv.key, s})
		}
	}
	datasets, err := orderedObject(raw.Metrics)
	if err != nil {
		return nil, fmt.Errorf("results metrics: %w", err)
	}
	for _, d := range datasets {
		values, err := orderedObject(d.value)
		if err != nil {
			return nil, fmt.Errorf("results metrics of %s: %w", d.key, err)
		}
		dm := DatasetMetrics{Name: d.key}
		for _, v := range values {
			var f *float64
			if err := json.Unmarshal(v.value, &f); err != nil {
				return nil, fmt.Errorf("results metric %s of %s: %w", v.key, d.key, err)
			}
			x := math.NaN()
			if f != nil {
				x = *f
			}
			dm.Metrics = append(dm.Metrics, Metric{v.key, x})
		}
		r.Datasets = append(r.Datasets, dm)
	}
	return r, nil
}

type keyValue struct {
	key   string
	value json.RawMessage
}

// orderedObject decodes a JSON object keeping its key order.
func orderedObject(data []byte) ([]keyValue, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected an object")
	}
	var out []keyValue
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, keyValue{key, v})
	}
	return out, nil
}
