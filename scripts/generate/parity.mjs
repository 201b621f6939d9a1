// Greedy SmolVLM generation with transformers.js (@huggingface/transformers 4.3.2, Idefics3ForConditionalGeneration)
// from the exact inputs colsmol built, as the independent reference for colsmol's generation loop.
//
// Usage: node parity.mjs MODEL_DIR CASES_JSON INPUTS_ROOT > goldens.json
// CASES_JSON lists {name, images, question} and max_new_tokens; INPUTS_ROOT/<name>/ holds input_ids.npy,
// attention_mask.npy and, with images, pixel_values.npy and pixel_attention_mask.npy, as written by
// `colsmol ask --image FILE... --inputs-out DIR QUESTION` (see make-goldens.sh).
//
// Each case records the generated ids, the prompt length, sha256 of the raw input_ids and pixel_values bytes (so
// the Go test can prove it feeds identical inputs), and per step the top logit and the margin to the second one:
// greedy steps with a margin below ~1e-3 could flip between float implementations (references.md §5.4).
import { readFileSync, existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { createHash } from "node:crypto";
import { env, AutoModelForVision2Seq, Tensor } from "@huggingface/transformers";

// readNpy parses a NumPy .npy v1.0 file (little-endian, C order) into {shape, data, raw}.
function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.toString("latin1", 1, 6) !== "NUMPY" || buf[6] !== 1) throw new Error(`${path}: not a .npy v1 file`);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString("latin1");
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order is not supported`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const raw = buf.subarray(10 + headerLen);
  const bytes = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  switch (descr) {
    case "<i8": return { shape, data: new BigInt64Array(bytes), raw };
    case "<f4": return { shape, data: new Float32Array(bytes), raw };
    case "|b1": return { shape, data: new Uint8Array(bytes), raw };
    default: throw new Error(`${path}: unsupported dtype ${descr}`);
  }
}

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

const [modelDir, casesPath, inputsRoot] = process.argv.slice(2);
if (!inputsRoot) {
  console.error("usage: node parity.mjs MODEL_DIR CASES_JSON INPUTS_ROOT");
  process.exit(2);
}
const spec = JSON.parse(readFileSync(casesPath, "utf8"));
env.allowRemoteModels = false;
env.localModelPath = dirname(resolve(modelDir)) + "/";
const model = await AutoModelForVision2Seq.from_pretrained(basename(resolve(modelDir)), { dtype: "fp32" });

// A logits processor that only watches: it records the best logit and its margin over the second best.
let steps = [];
const recorder = (inputIds, logits) => {
  const v = logits.data;
  let i1 = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[i1]) i1 = i;
  let s2 = -Infinity;
  for (let i = 0; i < v.length; i++) if (i !== i1 && v[i] > s2) s2 = v[i];
  steps.push({ top1: v[i1], margin: v[i1] - s2 });
  return logits;
};

const cases = [];
for (const c of spec.cases) {
  const dir = `${inputsRoot}/${c.name}`;
  const ids = readNpy(`${dir}/input_ids.npy`);
  const mask = readNpy(`${dir}/attention_mask.npy`);
  const inputs = {
    input_ids: new Tensor("int64", ids.data, ids.shape),
    attention_mask: new Tensor("int64", mask.data, mask.shape),
  };
  let pixSha = sha256(Buffer.alloc(0));
  if (existsSync(`${dir}/pixel_values.npy`)) {
    const pix = readNpy(`${dir}/pixel_values.npy`);
    const pmask = readNpy(`${dir}/pixel_attention_mask.npy`);
    inputs.pixel_values = new Tensor("float32", pix.data, pix.shape);
    inputs.pixel_attention_mask = new Tensor("bool", pmask.data, pmask.shape);
    pixSha = sha256(pix.raw);
  }
  steps = [];
  const out = await model.generate({ ...inputs, max_new_tokens: spec.max_new_tokens, do_sample: false, logits_processor: [recorder] });
  const tokens = Array.from(out.data, (v) => Number(v)).slice(ids.shape[1]);
  cases.push({
    name: c.name,
    images: c.images,
    question: c.question,
    prompt_tokens: ids.shape[1],
    tiles: inputs.pixel_values ? inputs.pixel_values.dims[1] : 0,
    input_ids_sha256: sha256(ids.raw),
    pixel_values_sha256: pixSha,
    tokens,
    top1_logits: steps.map((s) => s.top1),
    top2_margins: steps.map((s) => s.margin),
    min_margin: Math.min(...steps.map((s) => s.margin)),
  });
  console.error(`${c.name}: ${ids.shape[1]} prompt tokens, ${tokens.length} generated, min top-2 margin ${Math.min(...steps.map((s) => s.margin)).toExponential(2)}`);
}
const pkg = JSON.parse(readFileSync(new URL("./node_modules/@huggingface/transformers/package.json", import.meta.url), "utf8"));
process.stdout.write(JSON.stringify({
  reference: `@huggingface/transformers@${pkg.version} Idefics3ForConditionalGeneration.generate, greedy, dtype fp32`,
  model: modelDir,
  max_new_tokens: spec.max_new_tokens,
  cases,
}, null, 1) + "\n");
