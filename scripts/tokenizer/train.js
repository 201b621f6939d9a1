// Trains the small test tokenizer in the SmolVLM / SmolLM2 layout with the official Hugging Face
// `tokenizers` npm package (0.23.2) and writes it to testdata/tokenizer/.
//
// Usage (from the repository root):
//   npm --prefix scripts/tokenizer install && node scripts/tokenizer/train.js
//
// Layout written (see shared/research/models.md §3.5 and §4):
//   - byte-level BPE model, pre-tokenizer Sequence[Digits(individual_digits), ByteLevel(add_prefix_space=false)],
//     ByteLevel decoder, no normalizer, no post-processor;
//   - ids 0..16: the SmolLM2 special tokens; 17..272: the 256 byte-level symbols; then the learnt merges, so the
//     BPE vocabulary stops at VOCAB_BPE (a few thousand), far below 49152;
//   - ids 49152..49279: the SmolVLM added tokens with their real ids (<global-img>, <row_r_col_c>,
//     <fake_token_around_image>, <image>, 88 reserved tokens, <end_of_utterance>). They are also entries of the
//     model vocabulary so that every loader keeps their ids although the ids in between are unused.
// Files: tokenizer.json (merges as ["a","b"] pairs, as the library saves them), tokenizer-merges-strings.json
// (identical but merges as "a b" strings, the older format), tokenizer_config.json, special_tokens_map.json,
// vocab.json, merges.txt.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const tk = require('tokenizers');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'testdata', 'tokenizer');
const VOCAB_BPE = 4096; // ids below this are BPE tokens; the rest up to 49151 is unused

// SmolLM2 special tokens, ids 0..16.
const SMOLLM2_SPECIALS = [
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<repo_name>', '<reponame>', '<file_sep>', '<filename>',
  '<gh_stars>', '<issue_start>', '<issue_comment>', '<issue_closed>', '<jupyter_start>', '<jupyter_text>',
  '<jupyter_code>', '<jupyter_output>', '<jupyter_script>', '<empty_output>',
];

// SmolVLM added tokens, ids 49152..49279.
function smolvlmAdded() {
  const t = ['<global-img>'];
  for (let r = 1; r <= 6; r++) for (let c = 1; c <= 6; c++) t.push(`<row_${r}_col_${c}>`);
  t.push('<fake_token_around_image>', '<image>');
  for (let i = 0; i < 88; i++) t.push(`<|reserved_special_token_${i}|>`);
  t.push('<end_of_utterance>');
  if (t.length !== 128) throw new Error(`expected 128 added tokens, got ${t.length}`);
  return t;
}

// Training text: the licence texts and a few Go source files (code with tabs and space runs). Sorted, so the
// result only depends on the files' content.
function corpusFiles() {
  const files = [];
  const lic = '/usr/share/common-licenses';
  for (const f of fs.readdirSync(lic).sort()) {
    const p = path.join(lic, f);
    if (fs.lstatSync(p).isFile()) files.push(p);
  }
  const goroot = process.env.GOROOT || '/usr/local/go';
  for (const f of ['src/fmt/print.go', 'src/fmt/format.go', 'src/strings/strings.go', 'src/strings/builder.go']) {
    const p = path.join(goroot, f);
    if (fs.existsSync(p)) files.push(p);
  }
  return files;
}

function main() {
  fs.mkdirSync(OUT, { recursive: true });
  // 1. Learn merges with the library's BPE trainer on the SmolLM2 pre-tokenizer.
  const trainer = new tk.Tokenizer(tk.BPE.empty());
  trainer.setPreTokenizer(tk.sequencePreTokenizer([
    tk.digitsPreTokenizer(true),
    tk.byteLevelPreTokenizer(false, true),
  ]));
  const files = corpusFiles();
  trainer.train(files);
  const tmp = path.join(os.tmpdir(), `colsmol-tok-${process.pid}.json`);
  trainer.save(tmp);
  const trained = JSON.parse(fs.readFileSync(tmp, 'utf8'));
  fs.unlinkSync(tmp);
  const pairs = trained.model.merges.map((m) => (Array.isArray(m) ? m : m.split(' ')));

  // 2. Lay the vocabulary out as SmolLM2 does: specials, the full byte alphabet, then merge results in order.
  const vocab = {};
  let next = 0;
  for (const s of SMOLLM2_SPECIALS) vocab[s] = next++;
  for (const ch of tk.byteLevelAlphabet().slice().sort()) vocab[ch] = next++;
  const merges = [];
  for (const [a, b] of pairs) {
    if (next >= VOCAB_BPE) break;
    if (!(a in vocab) || !(b in vocab)) throw new Error(`merge ${a} ${b} uses an unknown symbol`);
    const m = a + b;
    merges.push([a, b]);
    if (!(m in vocab)) vocab[m] = next++;
  }
  const added = [];
  SMOLLM2_SPECIALS.forEach((s, i) => added.push({ id: i, content: s }));
  smolvlmAdded().forEach((s, i) => {
    vocab[s] = 49152 + i;
    added.push({ id: 49152 + i, content: s });
  });

  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added.map((a) => ({
      id: a.id, content: a.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Digits', individual_digits: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };

  // 3. Let the library load it and save it in its own canonical form, then check it kept every id.
  const tok = tk.Tokenizer.fromString(JSON.stringify(json));
  const mainPath = path.join(OUT, 'tokenizer.json');
  tok.save(mainPath, true);
  const saved = JSON.parse(fs.readFileSync(mainPath, 'utf8'));
  for (const a of added) {
    const id = tok.tokenToId(a.content);
    if (id !== a.id) throw new Error(`${a.content}: library gives id ${id}, want ${a.id}`);
  }
  const strings = JSON.parse(JSON.stringify(saved));
  strings.model.merges = saved.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  fs.writeFileSync(path.join(OUT, 'tokenizer-merges-strings.json'), JSON.stringify(strings, null, 2));
  const tokS = tk.Tokenizer.fromFile(path.join(OUT, 'tokenizer-merges-strings.json'));
  const probe = 'Hello <image> world 2024 \t\tx<row_1_col_2>';
  const a = tok.encode(probe), b = tokS.encode(probe);
  return Promise.all([a, b]).then(([ea, eb]) => {
    if (ea.getIds().join() !== eb.getIds().join()) throw new Error('merge formats disagree');
    fs.writeFileSync(path.join(OUT, 'vocab.json'), JSON.stringify(saved.model.vocab));
    fs.writeFileSync(path.join(OUT, 'merges.txt'),
      '#version: 0.2\n' + saved.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m)).join('\n') + '\n');
    writeConfigs();
    console.log(`trained on ${files.length} files: ${merges.length} merges, BPE vocab ${next}, ` +
      `total with added tokens ${tok.getVocabSize(true)}; probe ids ${ea.getIds().join(' ')}`);
  });
}

const CHAT_TEMPLATE = "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

function writeConfigs() {
  const decoder = {};
  const all = SMOLLM2_SPECIALS.map((s, i) => [i, s]).concat(smolvlmAdded().map((s, i) => [49152 + i, s]));
  for (const [id, s] of all) {
    decoder[String(id)] = { content: s, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  }
  const extra = ['<fake_token_around_image>', '<image>', '<end_of_utterance>'];
  const cfg = {
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: extra,
    bos_token: '<|im_start|>',
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<end_of_utterance>',
    legacy: false,
    model_max_length: 8192,
    pad_token: '<|im_end|>',
    processor_class: 'Idefics3Processor',
    tokenizer_class: 'GPT2Tokenizer',
    truncation_side: 'left',
    unk_token: '<|endoftext|>',
    vocab_size: 49152,
  };
  const tokEntry = (s) => ({ content: s, lstrip: false, normalized: false, rstrip: false, single_word: false });
  const map = {
    additional_special_tokens: extra.map(tokEntry),
    bos_token: tokEntry('<|im_start|>'),
    eos_token: tokEntry('<end_of_utterance>'),
    pad_token: tokEntry('<|im_end|>'),
    unk_token: tokEntry('<|endoftext|>'),
  };
  fs.writeFileSync(path.join(OUT, 'tokenizer_config.json'), JSON.stringify(cfg, null, 2) + '\n');
  fs.writeFileSync(path.join(OUT, 'special_tokens_map.json'), JSON.stringify(map, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
