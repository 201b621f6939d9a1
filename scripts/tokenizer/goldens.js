// Writes testdata/tokenizer/goldens.json: token ids and decoded strings computed by the official Hugging Face
// `tokenizers@0.23.2` npm package for testdata/tokenizer/tokenizer.json, the reference for internal/vlm's
// tokenizer tests. Also checks that the "a b" merges variant gives the same ids.
//
// Usage (from the repository root): node scripts/tokenizer/goldens.js
'use strict';

const fs = require('fs');
const path = require('path');
const tk = require('tokenizers');

const ROOT = path.resolve(__dirname, '..', '..');
const DIR = path.join(ROOT, 'testdata', 'tokenizer');

const EOU10 = '<end_of_utterance>'.repeat(10);
const hand = [
  '',
  ' ',
  '   ',
  'Hello world',
  ' Hello  world ',
  'Hello   world\n',
  '\tfunc main() {\n\t\tfmt.Println("hi")  // comment\n\t}\n',
  'if x:\n    return  y\n\n\n# done   \n',
  'a\r\nb\r\n\r\n',
  'trailing spaces   ',
  '   leading spaces',
  'nbsp\u00a0here and\u3000ideographic space, em\u2003space',
  'I\'m sure you\'re right, it\'s what they\'ve said; we\'ll see, he\'d go. YOU\'RE \'S \'\' \'x',
  'don\'t  \'tis rock\'n\'roll',
  'Digits 0123456789 and 3.14159, 1,000,000 and -42 and 2024-05-17',
  'Unicode digits: ٣٤٥ ١٢٣ ² ½ Ⅻ ⑦ 𝟗',
  'héllo wörld café naïve Ærøskøbing',
  'e\u0301 decomposed, a\u0308\u0301 stacked marks',
  '日本語のテキストと漢字。中文测试，还有标点！',
  '한국어 텍스트입니다',
  'Привет, мир! Ελληνικά κείμενα.',
  'مرحبا بالعالم ١٢٣',
  'हिन्दी पाठ और संख्याएँ १२३',
  'ภาษาไทยไม่มีช่องว่าง',
  'Emoji 🙂😀 family 👨‍👩‍👧‍👦 flag 🇫🇷 skin 👍🏽 keycap 1️⃣',
  'math ∑∫√∞ ≤≥ ≠ arrows →⇒ and symbols ©®™ §¶',
  'tabs\t\t\tand\t spaces \t mixed',
  'x = [1, 2, 3]; y = {"k": v}; z <- f(a,b)   ',
  '<image>',
  '<image><image><image>',
  '<image ',
  '<image',
  'image>',
  '<<image>>',
  '< image>',
  '<IMAGE>',
  '<row_7_col_1>',
  '<row_1_col_1>',
  '<row_1_col_1><row_6_col_6><row_0_col_1><row_1_col_7>',
  'x<row_2_col_3>y',
  '<fake_token_around_image><global-img><image><fake_token_around_image>',
  '<|im_start|>User:<image>Describe the image.<end_of_utterance>\nAssistant:',
  '<|im_start|>User: Describe the image.<image><end_of_utterance>',
  '<|im_start|>user\n<image>Describe the image.<end_of_utterance>',
  'What is the total revenue in 2023?' + EOU10,
  'Query: What is the total revenue in 2023?' + EOU10 + '\n',
  'Query: q ' + EOU10 + ' \n',
  '<end_of_utterance>\n<end_of_utterance> <end_of_utterance>x',
  '<|im_end|><|endoftext|><|im_start|>',
  '<|im_start|',
  '<|reserved_special_token_0|><|reserved_special_token_87|><|reserved_special_token_88|>',
  '<end_of_utterance',
  'text<image>text <image> text\n<image>\n',
  '\n\n<fake_token_around_image><global-img>',
  'Symbols !!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) ___ +++ === ~~~ ``` |||',
  'http://example.com/path?query=1&b=2#frag user@example.org',
  'CamelCaseWords snake_case_words kebab-case-words SCREAMING_CASE',
  '\u0000\u0001\u001f\u007f control chars',
  'zero\u200bwidth\u200cjoiner\u200d and bom\ufeff',
  'surrogate range \ud7ff \ue000 \uffff end',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𐍈 gothic',
];

// Deterministic pseudo-random mixtures of fragments (xorshift32, fixed seed).
function mixtures(n) {
  const frags = [
    'the', ' the', 'image', '<image>', '<row_1_col_2>', '<end_of_utterance>', ' ', '  ', '\t', '\n', '\n\n',
    '12', '٣', '²', 'é', 'e\u0301', '日本', '🙂', '👨‍👩‍👧', "'s", "'ll", "'", 'Ab', 'x_y', '...', ',', '"', '<', '>',
    '<image', 'image>', '|', '<|im_start|>', 'Query:', 'Describe', 'Ġ', 'Ċ', '\u00a0', '\u3000', 'Привет', '한',
  ];
  let s = 2463534242;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = 1 + (rnd() % 12);
    let t = '';
    for (let j = 0; j < k; j++) t += frags[rnd() % frags.length];
    out.push(t);
  }
  return out;
}

// Strings of random code points from several ranges (Unicode class edge cases: letters, numbers, marks,
// symbols and spaces of many scripts, astral planes).
function randomCodePoints(n) {
  let s = 987654321;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
  const spaces = [0x20, 0x09, 0x0a, 0xa0, 0x2028, 0x3000, 0x85, 0x1680, 0x200b, 0x180e, 0xfeff, 0x27];
  const out = [];
  for (let i = 0; i < n; i++) {
    let t = '';
    const k = 1 + (rnd() % 20);
    for (let j = 0; j < k; j++) {
      const r = rnd() % 10;
      let cp;
      if (r < 3) cp = 0x20 + (rnd() % 0x60);
      else if (r < 5) cp = rnd() % 0x3000;
      else if (r < 7) cp = rnd() % 0x10000;
      else if (r < 8) cp = 0x10000 + (rnd() % 0x30000);
      else cp = spaces[rnd() % spaces.length];
      if (cp >= 0xd800 && cp < 0xe000) cp = 0x41;
      t += String.fromCodePoint(cp);
    }
    out.push(t);
  }
  return out;
}

// Lines of real text not used for training (READMEs and changelogs under /usr/share/doc).
function realLines(max) {
  const out = [];
  const base = '/usr/share/doc';
  for (const pkg of fs.readdirSync(base).sort()) {
    for (const f of ['README', 'README.md', 'README.txt', 'NEWS', 'TODO']) {
      const p = path.join(base, pkg, f);
      if (!fs.existsSync(p) || !fs.statSync(p).isFile()) continue;
      for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
        if (line.trim().length > 0 && out.length < max) out.push(line + '\n');
      }
    }
    if (out.length >= max) break;
  }
  return out;
}

// The Idefics3 prompt expansion (transformers processing_idefics3.py get_image_prompt_string), restated here
// independently of the Go code, for the prompt goldens.
function imagePrompt(rows, cols, seqLen) {
  const img = '<image>'.repeat(seqLen);
  if (rows === 0 && cols === 0) return '<fake_token_around_image><global-img>' + img + '<fake_token_around_image>';
  let s = '';
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) s += `<fake_token_around_image><row_${r}_col_${c}>` + img;
    s += '\n';
  }
  return s + '\n<fake_token_around_image><global-img>' + img + '<fake_token_around_image>';
}

function expand(text, layouts) {
  const parts = text.split('<image>');
  let out = parts[0];
  layouts.forEach(([r, c], i) => { out += imagePrompt(r, c, 64) + parts[i + 1]; });
  return out;
}

const DOC = '<|im_start|>User:<image>Describe the image.<end_of_utterance>\nAssistant:';
const DOC_LEGACY = '<|im_start|>User: Describe the image.<image><end_of_utterance>';
const promptCases = [
  { kind: 'document', style: 'current', layouts: [[3, 4]], text: DOC },
  { kind: 'document', style: 'current', layouts: [[4, 2]], text: DOC },
  { kind: 'document', style: 'current', layouts: [[4, 4]], text: DOC },
  { kind: 'document', style: 'current', layouts: [[1, 4]], text: DOC },
  { kind: 'document', style: 'current', layouts: [[0, 0]], text: DOC },
  { kind: 'document', style: 'legacy', layouts: [[3, 4]], text: DOC_LEGACY },
  { kind: 'query', style: 'current', query: 'What is the revenue in 2023?', text: 'What is the revenue in 2023?' + EOU10 },
  { kind: 'query', style: 'legacy', query: 'What is the revenue in 2023?', text: 'Query: What is the revenue in 2023?' + EOU10 + '\n' },
  { kind: 'query', style: 'current', query: 'naïve café: 日本 🙂 <row_7_col_1>', text: 'naïve café: 日本 🙂 <row_7_col_1>' + EOU10 },
  { kind: 'chat', question: 'Can you describe this image?', layouts: [[2, 4]],
    text: '<|im_start|>User:<image>Can you describe this image?<end_of_utterance>\nAssistant:' },
  { kind: 'chat', question: 'Compare the two pages.', layouts: [[4, 3], [0, 0]],
    text: '<|im_start|>User:<image><image>Compare the two pages.<end_of_utterance>\nAssistant:' },
  { kind: 'chat', question: 'Hello there', layouts: [],
    text: '<|im_start|>User: Hello there<end_of_utterance>\nAssistant:' },
];

async function main() {
  const tok = tk.Tokenizer.fromFile(path.join(DIR, 'tokenizer.json'));
  const tokS = tk.Tokenizer.fromFile(path.join(DIR, 'tokenizer-merges-strings.json'));
  const texts = hand.concat(mixtures(300), randomCodePoints(300), realLines(300));
  const cases = [];
  for (const text of texts) {
    const e = await tok.encode(text);
    const ids = e.getIds();
    const es = await tokS.encode(text);
    if (es.getIds().join() !== ids.join()) throw new Error(`merge formats disagree on ${JSON.stringify(text)}`);
    const c = {
      text,
      ids,
      decoded: await tok.decode(ids, false),
      decoded_skip_special: await tok.decode(ids, true),
    };
    // A prefix that may end inside a multi-byte character (what streaming decode sees).
    if (ids.length > 1) {
      c.prefix_len = Math.floor(ids.length / 2);
      c.decoded_prefix = await tok.decode(ids.slice(0, c.prefix_len), false);
    }
    cases.push(c);
  }
  const prompts = [];
  for (const pc of promptCases) {
    const full = expand(pc.text, pc.layouts || []);
    const e = await tok.encode(full);
    prompts.push(Object.assign({}, pc, { text: undefined, prompt: full, ids: e.getIds() }));
  }
  fs.writeFileSync(path.join(DIR, 'prompt_goldens.json'),
    '{"cases": [\n' + prompts.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n');
  const total = cases.reduce((n, c) => n + c.ids.length, 0);
  const ref = JSON.stringify('tokenizers@0.23.2 (npm), testdata/tokenizer/tokenizer.json');
  fs.writeFileSync(path.join(DIR, 'goldens.json'),
    `{"reference": ${ref}, "cases": [\n` + cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]}\n');
  console.log(`wrote ${cases.length} cases, ${total} ids`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
