// Greedy SmolVLM generation with transformers.js (@huggingface/transformers 4.3.2, Idefics3ForConditionalGeneration)
// from the exact inputs colsmol built, as the independent reference for colsmol's generation loop.
//
// Usage: node parity.mjs MODEL_DIR MAX_NEW_TOKENS INPUTS_DIR... > goldens.json
// Each INPUTS_DIR holds input_ids.npy, attention_mask.npy, pixel_values.npy and pixel_attention_mask.npy, as
// written by `colsmol ask --image FILE --inputs-out INPUTS_DIR`.
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { createHash } from "node:crypto";
import { env, AutoModelForVision2Seq, Tensor } from "@huggingface/transformers";

// readNpy parses a NumPy .npy v1.0 file (little-endian, C order) into {dtype, shape, data}.
function readNpy(path) {
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString("latin1");
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const raw = buf.subarray(10 + headerLen);
  const bytes = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  switch (descr) {
    case "<i8": return { dtype: "int64", shape, data: new BigInt64Array(bytes), raw };
    case "<f4": return { dtype: "float32", shape, data: new Float32Array(bytes), raw };
    case "|b1": return { dtype: "bool", shape, data: new Uint8Array(bytes), raw };
    default: throw new Error(`${path}: unsupported dtype ${descr}`);
  }
}

const [modelDir, maxNew, ...inputDirs] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = dirname(resolve(modelDir)) + "/";
const model = await AutoModelForVision2Seq.from_pretrained(basename(resolve(modelDir)), { dtype: "fp32" });

const cases = [];
for (const dir of inputDirs) {
  const ids = readNpy(`${dir}/input_ids.npy`);
  const mask = readNpy(`${dir}/attention_mask.npy`);
  const pix = readNpy(`${dir}/pixel_values.npy`);
  const pmask = readNpy(`${dir}/pixel_attention_mask.npy`);
  const out = await model.generate({
    input_ids: new Tensor("int64", ids.data, ids.shape),
    attention_mask: new Tensor("int64", mask.data, mask.shape),
    pixel_values: new Tensor("float32", pix.data, pix.shape),
    pixel_attention_mask: new Tensor("bool", pmask.data, pmask.shape),
    max_new_tokens: Number(maxNew),
    do_sample: false,
  });
  const all = Array.from(out.data, (v) => Number(v));
  cases.push({
    name: basename(dir),
    input_ids_sha256: createHash("sha256").update(ids.raw).digest("hex"),
    pixel_values_sha256: createHash("sha256").update(pix.raw).digest("hex"),
    prompt_tokens: ids.shape[1],
    tokens: all.slice(ids.shape[1]),
  });
}
process.stdout.write(JSON.stringify({ reference: "@huggingface/transformers@4.3.2 Idefics3ForConditionalGeneration greedy", max_new_tokens: Number(maxNew), cases }, null, 1) + "\n");
