#!/usr/bin/env node
// ref_tok_encode.js: a small bridge to Hugging Face `tokenizers` (npm) for the Python reference scripts
// (ref_bert_models.py): reads one JSON request on stdin, writes one JSON answer on stdout.
//   {"cmd": "build", "out": PATH, "vocab": [tokens...], "lowercase": bool, "unk": "[UNK]",
//    "specials": [tokens...], "template": "[CLS] $A [SEP]", "template_ids": [["[CLS]", id], ...],
//    "max_length": N or 0}
//       -> writes a WordPiece tokenizer.json (BertNormalizer, BertPreTokenizer, TemplateProcessing) saved
//          by the library itself; answers {"ok": true}
//   {"cmd": "encode", "tokenizer": PATH, "texts": [...], "max_length": N or 0, "add_special": bool}
//       -> {"ids": [[...], ...]}
'use strict';
const fs = require('fs');
const tk = require('./node_modules/tokenizers');

async function main() {
  const req = JSON.parse(fs.readFileSync(0, 'utf8'));
  if (req.cmd === 'build') {
    const vocab = {};
    req.vocab.forEach((t, i) => { vocab[t] = i; });
    const t = new tk.Tokenizer(tk.WordPiece.init(vocab, { unkToken: req.unk, continuingSubwordPrefix: '##', maxInputCharsPerWord: 100 }));
    t.setNormalizer(tk.bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: !!req.lowercase }));
    t.setPreTokenizer(tk.bertPreTokenizer());
    const [a, b] = req.template_ids;
    t.setPostProcessor(tk.templateProcessing(req.template, `${req.template} $B:1 ${b[0]}:1`, req.template_ids));
    t.addSpecialTokens(req.specials);
    if (req.max_length) t.setTruncation(req.max_length);
    t.save(req.out, true);
    void a;
    process.stdout.write(JSON.stringify({ ok: true }));
    return;
  }
  if (req.cmd === 'encode') {
    const t = tk.Tokenizer.fromFile(req.tokenizer);
    if (req.max_length) t.setTruncation(req.max_length); else t.disableTruncation();
    const ids = [];
    for (const s of req.texts) ids.push((await t.encode(s, null, { addSpecialTokens: req.add_special !== false })).getIds());
    process.stdout.write(JSON.stringify({ ids }));
    return;
  }
  throw new Error('unknown cmd ' + req.cmd);
}

main().catch((e) => { console.error(e); process.exit(1); });
