#!/usr/bin/python3
"""ref_tok_unigram_train.py: trains small SentencePiece Unigram models (Debian python3-sentencepiece, the
Google library) for ref_tok_unigram.js, which turns them into tokenizer.json files with Hugging Face
`tokenizers` and writes the expected ids.

Reads a training corpus (UTF-8, one sentence a line) from argv[1]; writes a JSON list on stdout, one entry per
model: {"name", "vocab": [[piece, score], ...], "unk_id", "byte_fallback", "charsmap": base64 of the
model's normalizer_spec.precompiled_charsmap (SentencePiece's compiled NFKC-based "nmt_nfkc" rule) or ""}.
Usage: /usr/bin/python3 tests/reference/ref_tok_unigram_train.py corpus.txt > models.json
"""
import base64
import io
import json
import sys

import sentencepiece as spm


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def fields(b):
    """(field number, wire type, value) of a protobuf message (value: int or bytes)."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError('wire type %d' % wt)
        yield f, wt, v


def charsmap(model):
    for f, _, v in fields(model):
        if f == 3:   # ModelProto.normalizer_spec
            for g, _, w in fields(v):
                if g == 2:   # NormalizerSpec.precompiled_charsmap
                    return base64.b64encode(w).decode()
    return ''


def train(name, corpus, **kw):
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=buf, model_type='unigram',
                                   unk_id=0, bos_id=1, eos_id=2, pad_id=3, num_threads=1, seed_sentencepiece_size=200000,
                                   minloglevel=2, **kw)
    model = buf.getvalue()
    sp = spm.SentencePieceProcessor(model_proto=model)
    vocab = [[sp.id_to_piece(i), float(sp.get_score(i))] for i in range(sp.get_piece_size())]
    return {'name': name, 'vocab': vocab, 'unk_id': 0, 'byte_fallback': bool(kw.get('byte_fallback')),
            'charsmap': charsmap(model), 'spm_version': spm.__version__}


# A few hand rules compiled by sentencepiece into a small charsmap; "A" and "A + acute" are both keys, so HF's
# shortest-prefix lookup on the grapheme "A\u0301" gives "a" (sentencepiece itself would give the longest, "\u00c5").
RULES = "41\t61\n41 301\tC5\n65 301\tE9\nFF21\t41\nD\t20\n2460\t31 31\n3000\t20\n"


def main():
    corpus = [l.rstrip('\n') for l in open(sys.argv[1], encoding='utf-8') if l.strip()]
    rules = sys.argv[1] + '.rules.tsv'
    with open(rules, 'w') as f:
        f.write(RULES)
    out = [
        # XLM-R / T5 style: nmt_nfkc charsmap, characters below the coverage become <unk>
        train('spm_nfkc', corpus, vocab_size=1200, normalization_rule_name='nmt_nfkc',
              character_coverage=0.995),
        # byte fallback, no charsmap (identity rule); the tokenizer.json gets NFKC + Lowercase instead
        train('spm_bytes', corpus, vocab_size=1000, normalization_rule_name='identity', byte_fallback=True,
              character_coverage=0.98),
        # a small charsmap from hand rules (the fuzz seed and the HF shortest-prefix case)
        train('spm_rules', corpus, vocab_size=400, normalization_rule_tsv=rules, character_coverage=0.98),
    ]
    json.dump(out, sys.stdout)


main()
