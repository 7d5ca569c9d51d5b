#!/usr/bin/env node
// ref_tok_unicode.js: Hugging Face `tokenizers` (npm, the Rust library) NFC, NFKC and NFKD of single code points,
// for tests/unit/test_tokenizer_unigram.c. Every code point that either V8's own String.prototype.normalize (ICU)
// or the library changes under NFKD is listed (Hangul syllables: every 97th), with the library's three forms.
// This pins the Unicode version of the library's tables (unicode-normalization-alignments: Unicode 11.0, so
// characters added with decompositions since then are left alone), which engine/text/nfc_gen.py and nfkc_gen.py
// follow.
// Writes tests/fixtures/tok_unigram/unicode_forms.jsonl.gz: {"cp", "nfc", "nfkc", "nfkd"} per line.
// Usage: (cd tests/reference && npm ci) && node tests/reference/ref_tok_unicode.js
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const tk = require('./node_modules/tokenizers');

const OUT = path.resolve(__dirname, '..', 'fixtures', 'tok_unigram', 'unicode_forms.jsonl.gz');
const nc = tk.nfcNormalizer(), nk = tk.nfkcNormalizer(), nd = tk.nfkdNormalizer();
const lines = [];
for (let cp = 1; cp < 0x110000; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  if (cp >= 0xac00 && cp <= 0xd7a3 && (cp - 0xac00) % 97 !== 0) continue;
  const c = String.fromCodePoint(cp);
  const d = nd.normalizeString(c);
  if (c.normalize('NFKD') === c && d === c) continue;
  lines.push(JSON.stringify({ cp, nfc: nc.normalizeString(c), nfkc: nk.normalizeString(c), nfkd: d }));
}
fs.writeFileSync(OUT, zlib.gzipSync(lines.join('\n') + '\n', { level: 9 }));
process.stdout.write(`wrote ${lines.length} code points\n`);
