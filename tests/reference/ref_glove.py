#!/usr/bin/python3
"""ref_glove.py: writes tests/fixtures/glove/{vocab.txt,cases.json}.

The expected sentence vectors follow sentence-transformers' WordEmbeddings +
WhitespaceTokenizer + mean Pooling (the MTEB GloVe baseline), using Python's
own str.split(), str.strip(string.punctuation), str.lower() and numpy float32
sums, so the C code's Unicode whitespace, punctuation and lowercasing are
checked against Python itself. sentence-transformers is not packaged in
Debian 12, so its tokenize() rules are restated here from its source:
  for token in text.split():
      if token in stop_words: skip
      elif token in vocab: keep
      token = token.strip(string.punctuation); stop word? skip; in vocab (non-empty)? keep
      token = token.lower(); stop word? skip; in vocab? keep
Run: /usr/bin/python3 tests/reference/ref_glove.py
"""
import json
import os
import string

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "glove")
os.makedirs(OUT, exist_ok=True)
STOP = set(['!', '"', "''", "``", '#', '$', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/', ':', ';',
            '<', '=', '>', '?', '@', '[', '\\', ']', '^', '_', '`', '{', '|', '}', '~', 'a', 'the', 'is',
            'and', 'of', 'to', 'in', 'it', 'was'])  # the C list is longer; cases only use these stop words
rng = np.random.RandomState(7)
words = ["cat", "dog", "café", "über", "straße", "ß", "ǆ", "naïve", "résumé", "ελλάδα", "москва", "x-ray",
         "don't", "u.s.", "hello", "world", "data", "ﬁ", "i̇stanbul", "istanbul", "é", "ok!", "«quote»", "42",
         "dup", "dup"]
dim = 8
vecs = rng.randn(len(words), dim).astype(np.float32).round(5)
with open(os.path.join(OUT, "vocab.txt"), "w", encoding="utf8") as f:
    for w, v in zip(words, vecs):
        f.write(w + " " + " ".join(repr(float(x)) for x in v) + "\n")
    f.write("broken 1.0 2.0\n")  # wrong value count: skipped, as sentence-transformers does
vocab = {}
for i, w in enumerate(words):
    vocab[w] = i  # later duplicates win (OrderedDict assignment)


def tokenize(text):
    out = []
    for token in text.split():
        if token in STOP:
            continue
        if token in vocab:
            out.append(vocab[token]); continue
        token = token.strip(string.punctuation)
        if token in STOP:
            continue
        if len(token) > 0 and token in vocab:
            out.append(vocab[token]); continue
        token = token.lower()
        if token in STOP:
            continue
        if token in vocab:
            out.append(vocab[token]); continue
    return out


texts = ["The cat and the dog.", "CAFÉ Über STRASSE Straße", "«Москва» ΕΛΛΆΔΑ!", "x-ray, DON'T u.s.",
         "hello\u00a0world\u2003data\u3000cat\x1cdog\x85hello", "...", "", "Naïve RÉSUMÉ é É",
         "İstanbul istanbul", "ﬁ ǅ ǆ", "ok! ok!! ok", "42 42. (42)", "dup DUP", "unknown words only",
         "\"quoted\" 'cat' (dog) [hello]"]
cases = []
for t in texts:
    ids = tokenize(t)
    if ids:
        v = np.zeros(dim, np.float32)
        for i in ids:
            v += vecs[i]
        v = v / np.float32(len(ids))
    else:
        v = np.zeros(dim, np.float32)
    cases.append({"text": t, "ids": ids, "vector": [float(x) for x in v]})
with open(os.path.join(OUT, "cases.json"), "w", encoding="utf8") as f:
    json.dump({"dim": dim, "cases": cases}, f, ensure_ascii=False, indent=1)
print("wrote", OUT)
