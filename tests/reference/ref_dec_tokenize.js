#!/usr/bin/env node
// ref_dec_tokenize.js: token ids from Hugging Face `tokenizers` (npm) for ref_dec_models.py. Reads a JSON array
// of {"tok": tokenizer.json path, "text": string, "special": bool} on stdin, writes a JSON array of id arrays.
'use strict';
const fs = require('fs');
const path = require('path');
const tk = require(path.join(__dirname, 'node_modules', 'tokenizers'));

(async () => {
  const items = JSON.parse(fs.readFileSync(0, 'utf8'));
  const cache = {};
  const out = [];
  for (const it of items) {
    if (!cache[it.tok]) cache[it.tok] = tk.Tokenizer.fromFile(it.tok);
    out.push((await cache[it.tok].encode(it.text, null, { addSpecialTokens: !!it.special })).getIds());
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
