#!/usr/bin/python3
"""engine_bench.py: the PyTorch side of bench/engine_bench.sh, and the model/text preparation.

  prepare OUT_DIR SHARED_DATA N_STS N_SCI
      writes random-weight bge-small-shaped (12 x 384, FFN 1536) and BERT-base-shaped (12 x 768, FFN 3072)
      BertModel folders with the bert-base-uncased vocabulary (tests/fixtures/hf/bert-uncased-tok, 30522
      tokens), F32 safetensors, CLS pooling; and two text files: STS-B test sentences (N_STS) and SciFact
      passages "title. text" (N_SCI).
  torch MODEL_DIR TEXTS.txt THREADS MAXLEN
      tokenizes with the C engine's ids (MODEL_DIR/ids-*.json written by the shell script from
      `cmteb tokenize`), runs the same BertModel math in float32 with torch (padded batches of 32 sorted
      by length, like the issue's measurement) and prints "tokens seconds".
  peak THREADS
      measures sgemm GFLOP/s (numpy/OpenBLAS, 2048^3 float32) for the fraction-of-peak column.
"""
import gzip
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "reference"))


def prepare(out, data, n_sts, n_sci):
    import ref_bert_models as R
    vocab_txt = gzip.open(os.path.join(SRC, "tests/fixtures/hf/bert-uncased-tok/vocab.txt.gz"), "rt").read()
    tok_json = gzip.open(os.path.join(SRC, "tests/fixtures/hf/bert-uncased-tok/tokenizer.json.gz"), "rb").read()
    for name, h, I, H in (("bge-small-shape", 384, 1536, 12), ("bert-base-shape", 768, 3072, 12)):
        d = os.path.join(out, name)
        os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
        cfg = {"architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522, "hidden_size": h,
               "num_hidden_layers": 12, "num_attention_heads": H, "intermediate_size": I,
               "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu",
               "layer_norm_eps": 1e-12, "pad_token_id": 0}
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
        rng = np.random.default_rng(7)
        W = R.make_weights(cfg, "bert", rng, "")
        W = {k: v.astype(np.float32) for k, v in W.items()}
        R.write_safetensors(os.path.join(d, "model.safetensors"), W, "F32")
        open(os.path.join(d, "vocab.txt"), "w").write(vocab_txt)
        open(os.path.join(d, "tokenizer.json"), "wb").write(tok_json)
        json.dump({"pooling_mode_cls_token": True}, open(os.path.join(d, "1_Pooling", "config.json"), "w"))
    sts = [json.loads(l) for l in gzip.open(os.path.join(data, "mteb/stsbenchmark-sts/test.jsonl.gz"), "rt")]
    sents = []
    for r in sts:
        sents += [r["sentence1"], r["sentence2"]]
    sents = [s.replace("\n", " ") for s in sents[:n_sts]]
    open(os.path.join(out, "sts.txt"), "w").write("\n".join(sents) + "\n")
    sci = [json.loads(l) for l in open(os.path.join(data, "mteb/scifact/corpus.jsonl"))]
    docs = [(r["title"] + ". " + r["text"]).replace("\n", " ") for r in sci[::max(1, len(sci) // n_sci)]][:n_sci]
    open(os.path.join(out, "scifact.txt"), "w").write("\n".join(docs) + "\n")


def load_f32(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    hdr = json.loads(raw[8:8 + n])
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        assert v["dtype"] == "F32"
        out[k] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.float32).reshape(v["shape"]).copy()
    return out


def torch_run(model_dir, ids_file, threads):
    import torch
    torch.set_num_threads(int(threads))
    torch.set_grad_enabled(False)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    W = {k: torch.from_numpy(v) for k, v in load_f32(os.path.join(model_dir, "model.safetensors")).items()}
    ids_all = [json.loads(l)["ids"] for l in open(ids_file)]
    h, H, eps, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"], cfg["num_hidden_layers"]
    dh = h // H
    F = torch.nn.functional
    lay = []
    for i in range(L):
        p = f"encoder.layer.{i}."
        g = lambda n: W[p + n]
        lay.append([g(n) for n in ("attention.self.query.weight", "attention.self.query.bias",
                                   "attention.self.key.weight", "attention.self.key.bias",
                                   "attention.self.value.weight", "attention.self.value.bias",
                                   "attention.output.dense.weight", "attention.output.dense.bias",
                                   "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
                                   "intermediate.dense.weight", "intermediate.dense.bias",
                                   "output.dense.weight", "output.dense.bias",
                                   "output.LayerNorm.weight", "output.LayerNorm.bias")])

    def fwd(ids, mask):
        B, T = ids.shape
        x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:T] + \
            W["embeddings.token_type_embeddings.weight"][0]
        x = F.layer_norm(x, (h,), W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
        ext = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
        for (qw, qb, kw, kb, vw, vb, ow, ob, l1w, l1b, iw, ib, o2w, o2b, l2w, l2b) in lay:
            sp = lambda t: t.view(B, T, H, dh).transpose(1, 2)
            q, k, v = sp(F.linear(x, qw, qb)), sp(F.linear(x, kw, kb)), sp(F.linear(x, vw, vb))
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + ext, dim=-1) @ v
            a = a.transpose(1, 2).reshape(B, T, h)
            x = F.layer_norm(F.linear(a, ow, ob) + x, (h,), l1w, l1b, eps)
            x = F.layer_norm(F.linear(F.gelu(F.linear(x, iw, ib)), o2w, o2b) + x, (h,), l2w, l2b, eps)
        return x[:, 0]

    order = sorted(range(len(ids_all)), key=lambda i: len(ids_all[i]))
    ntok = sum(len(x) for x in ids_all)
    t0 = time.perf_counter()
    for b in range(0, len(order), 32):
        batch = [ids_all[i] for i in order[b:b + 32]]
        T = max(len(x) for x in batch)
        ids = torch.zeros((len(batch), T), dtype=torch.long)
        mask = torch.zeros((len(batch), T), dtype=torch.float32)
        for j, x in enumerate(batch):
            ids[j, :len(x)] = torch.tensor(x)
            mask[j, :len(x)] = 1
        fwd(ids, mask)
    print(ntok, time.perf_counter() - t0)


def peak(threads):
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    import numpy as np2
    a = np2.random.rand(2048, 2048).astype(np2.float32)
    b = np2.random.rand(2048, 2048).astype(np2.float32)
    a @ b
    best = 0
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = max(best, 2 * 2048 ** 3 / (time.perf_counter() - t) / 1e9)
    print(f"{best:.1f}")


def flops(model_dir, ids_file):
    """Total forward FLOPs of the texts: 2 * non-embedding params per token + attention 4 * len^2 * h per layer."""
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    h, I, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    per_tok = 2 * L * (4 * h * h + 2 * h * I)
    tot, ntok = 0, 0
    for line in open(ids_file):
        n = len(json.loads(line)["ids"])
        ntok += n
        tot += per_tok * n + 4 * n * n * h * L
    print(ntok, tot)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "prepare":
        prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "torch":
        torch_run(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "flops":
        flops(sys.argv[2], sys.argv[3])
    elif cmd == "peak":
        peak(int(sys.argv[2]))
