// Independent reference for the embed tests: computes a ColSmolVLM embedding from the model inputs that
// `colsmol embed --inputs-out DIR` wrote, by driving the model folder's split ONNX graphs with
// onnxruntime-node (JavaScript; no colsmol code involved).
//
//   cd scripts/embed && ONNXRUNTIME_NODE_INSTALL=skip npm ci
//   node scripts/embed/reference.mjs MODEL_DIR INPUTS_DIR OUT.npy
//
// Differences from the Go path, on purpose: all tiles go through the vision encoder in ONE call, the
// image features are merged by a plain scan here, and position ids are built here as 0..S-1.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

// readNpy parses a NumPy .npy file (v1-3, little-endian, C order) of dtype <f4, <i8 or |b1.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = buf.subarray(hstart + hlen);
  const n = shape.reduce((a, b) => a * b, 1);
  const copy = (bytes) => { const b = new ArrayBuffer(bytes); new Uint8Array(b).set(body.subarray(0, bytes)); return b; };
  switch (descr) {
    case '<f4': return { shape, type: 'float32', data: new Float32Array(copy(4 * n)) };
    case '<i8': return { shape, type: 'int64', data: new BigInt64Array(copy(8 * n)) };
    case '|b1': return { shape, type: 'bool', data: Uint8Array.from(body.subarray(0, n)) };
    default: throw new Error(`${file}: dtype ${descr} not handled`);
  }
}

// writeNpy writes a float32 array as .npy version 1.0.
function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre);
  pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

const [modelDir, inputsDir, outFile] = process.argv.slice(2);
if (!outFile) {
  console.error('usage: node reference.mjs MODEL_DIR INPUTS_DIR OUT.npy');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
const imageToken = BigInt(config.image_token_id ?? 49190);
const opts = { intraOpNumThreads: 1, graphOptimizationLevel: 'all' };
const session = (name) => ort.InferenceSession.create(path.join(modelDir, 'onnx', name), opts);
const ids = readNpy(path.join(inputsDir, 'input_ids.npy'));
const mask = readNpy(path.join(inputsDir, 'attention_mask.npy'));
const [B, S] = ids.shape;
if (B !== 1) throw new Error('one sequence at a time');

const embedTokens = await session('embed_tokens.onnx');
const embeds = (await embedTokens.run({ input_ids: new ort.Tensor('int64', ids.data, ids.shape) })).inputs_embeds;
const D = embeds.dims[2];
const hidden = Float32Array.from(embeds.data);

const pixFile = path.join(inputsDir, 'pixel_values.npy');
if (fs.existsSync(pixFile)) {
  const pix = readNpy(pixFile);
  const pmask = readNpy(path.join(inputsDir, 'pixel_attention_mask.npy'));
  const vision = await session('vision_encoder.onnx');
  const feeds = { pixel_values: new ort.Tensor('float32', pix.data, pix.shape) };
  if (vision.inputNames.includes('pixel_attention_mask')) feeds.pixel_attention_mask = new ort.Tensor('bool', pmask.data, pmask.shape);
  const feats = (await vision.run(feeds)).image_features;
  let row = 0;
  for (let p = 0; p < S; p++) {
    if (ids.data[p] !== imageToken) continue;
    hidden.set(feats.data.subarray(row * D, (row + 1) * D), p * D);
    row++;
  }
  if (row * D !== feats.data.length) throw new Error(`merged ${row} image rows, the vision encoder gave ${feats.data.length / D}`);
}

const text = await session('text_embeddings.onnx');
const positions = new BigInt64Array(S);
for (let p = 0; p < S; p++) positions[p] = BigInt(p);
const feeds = {
  inputs_embeds: new ort.Tensor('float32', hidden, [1, S, D]),
  attention_mask: new ort.Tensor('int64', mask.data, mask.shape),
};
if (text.inputNames.includes('position_ids')) feeds.position_ids = new ort.Tensor('int64', positions, [1, S]);
const out = (await text.run(feeds)).embeddings;
writeNpy(outFile, [S, out.dims[2]], out.data);
console.log(`${outFile}: [${S}, ${out.dims[2]}] (onnxruntime-node ${ort.env.versions?.node ?? ''})`);
