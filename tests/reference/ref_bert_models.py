#!/usr/bin/python3
"""ref_bert_models.py: builds small random-weight BERT-family models in the Hugging Face hub layout and
writes their embeddings, computed here with Debian's python3-torch (no `transformers` package: the BERT,
RoBERTa and MPNet math below follows the HF architecture definitions: post-LN encoder layers, erf GELU,
RoBERTa positions from padding_idx + 1, MPNet's bucketed relative position bias), for
tests/unit/test_bert.c.

Token ids come from Hugging Face `tokenizers` (npm, via tests/reference/ref_tok_encode.js) on a
tokenizer.json that library writes. The reference runs PADDED batches with attention masks (as HF does);
the C engine packs sequences without padding, so the comparison also checks the packing.

bert-tiny-dense adds two sentence-transformers Dense modules after pooling (64->48 tanh with bias, F32;
48->32 identity without bias, BF16) before Normalize, as LaBSE/stella-style models do; the reference applies
them in float64 after pooling (whatever the case's pooling) and normalises after them.

Writes tests/fixtures/hf/<model>/ (config.json, model.safetensors or shards + index, tokenizer.json or
vocab.txt, sentence-transformers files) and tests/fixtures/hf/<model>/expected.json:
  {"texts": [...], "cases": [{"name", "pooling", "normalize", "exclude_instr", "attention", "role",
   "instruction", "query_template", "max_length", "vectors": [[...], ...]}]}

Usage: (cd tests/reference && npm ci) && /usr/bin/python3 tests/reference/ref_bert_models.py [MODEL ...]
(no MODEL: all of them)
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(SRC, "tests", "fixtures", "hf")

TEXTS = [
    "A man is playing a guitar.",
    "The quick brown fox jumps over the lazy dog!",
    "hello",
    "",
    "Cats and dogs are playing in the garden, while the sun is shining brightly over the hills.",
    "What is the capital of France? Paris is the capital of France.",
    "Zebra xylophone quartz",
    "Straße café naïve – unknown words like floccinaucinihilipilification appear here too.",
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four twenty-five "
    "twenty-six twenty-seven twenty-eight twenty-nine thirty thirty-one thirty-two",
    "A man is playing a guitar.",
]


def build_vocab(specials):
    words = set()
    for t in TEXTS + ["query: passage: Instruct: Find sentences with the same meaning\nQuery: "]:
        for w in t.lower().replace("\n", " ").split():
            w = "".join(c for c in w if c.isalnum())
            if w and len(w) < 9:
                words.add(w)
    chars = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789.,!?;:'\"-–()"))
    vocab = list(specials) + chars + ["##" + c for c in chars if c.isalnum()] + sorted(words)
    seen, out = set(), []
    for v in vocab:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def node(req):
    p = subprocess.run(["node", os.path.join(HERE, "ref_tok_encode.js")], input=json.dumps(req).encode(),
                       capture_output=True, check=True)
    return json.loads(p.stdout)


# ---- safetensors writer -------------------------------------------------------------------------------
DT = {"F32": (np.float32, 4), "F16": (np.float16, 2)}


def to_bytes(arr, dtype):
    if dtype == "BF16":
        u = np.ascontiguousarray(arr, dtype=np.float32).view(np.uint32)
        r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)   # round to nearest even
        return r.tobytes()
    return np.ascontiguousarray(arr, dtype=DT[dtype][0]).tobytes()


def stored_value(arr, dtype):
    """What the file holds, back as float64 (the reference uses the rounded weights)."""
    if dtype == "F32":
        return arr.astype(np.float32).astype(np.float64)
    if dtype == "F16":
        return arr.astype(np.float16).astype(np.float64)
    u = np.frombuffer(to_bytes(arr, "BF16"), dtype=np.uint16).astype(np.uint32) << 16
    return u.view(np.float32).reshape(arr.shape).astype(np.float64)


def write_safetensors(path, tensors, dtype):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        b = to_bytes(tensors[name], dtype)
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- model ------------------------------------------------------------------------------------------
def make_weights(cfg, kind, rng, prefix):
    h, I, V, P, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["max_position_embeddings"], cfg["num_hidden_layers"]
    W = {}

    def r(*shape, s=0.2):
        return rng.standard_normal(shape) * s

    W["embeddings.word_embeddings.weight"] = r(V, h, s=0.5)
    W["embeddings.position_embeddings.weight"] = r(P, h, s=0.3)
    if kind != "mpnet":
        W["embeddings.token_type_embeddings.weight"] = r(cfg["type_vocab_size"], h, s=0.3)
    W["embeddings.LayerNorm.weight"] = 1 + r(h, s=0.1)
    W["embeddings.LayerNorm.bias"] = r(h, s=0.1)
    for i in range(L):
        p = f"encoder.layer.{i}."
        if kind == "mpnet":
            att = {"q": p + "attention.attn.q", "k": p + "attention.attn.k", "v": p + "attention.attn.v", "o": p + "attention.attn.o"}
            ln1 = p + "attention.LayerNorm"
        else:
            att = {"q": p + "attention.self.query", "k": p + "attention.self.key", "v": p + "attention.self.value", "o": p + "attention.output.dense"}
            ln1 = p + "attention.output.LayerNorm"
        for k in "qkvo":
            W[att[k] + ".weight"] = r(h, h, s=1.0 / math.sqrt(h) * 1.5)
            W[att[k] + ".bias"] = r(h, s=0.1)
        W[ln1 + ".weight"] = 1 + r(h, s=0.1)
        W[ln1 + ".bias"] = r(h, s=0.1)
        W[p + "intermediate.dense.weight"] = r(I, h, s=1.0 / math.sqrt(h))
        W[p + "intermediate.dense.bias"] = r(I, s=0.1)
        W[p + "output.dense.weight"] = r(h, I, s=1.0 / math.sqrt(I))
        W[p + "output.dense.bias"] = r(h, s=0.1)
        W[p + "output.LayerNorm.weight"] = 1 + r(h, s=0.1)
        W[p + "output.LayerNorm.bias"] = r(h, s=0.1)
    if kind == "mpnet":
        W["encoder.relative_attention_bias.weight"] = r(32, cfg["num_attention_heads"], s=0.5)
    W["pooler.dense.weight"] = r(h, h)   # present in real checkpoints, unused for embeddings
    W["pooler.dense.bias"] = r(h)
    return {prefix + k: v for k, v in W.items()}


def mpnet_bucket(relative_position, num_buckets=32, max_distance=128):
    ret = 0
    n = -relative_position
    num_buckets //= 2
    ret += (n < 0).to(torch.long) * num_buckets
    n = torch.abs(n)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    val_if_large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact)
                                * (num_buckets - max_exact)).to(torch.long)
    val_if_large = torch.min(val_if_large, torch.full_like(val_if_large, num_buckets - 1))
    ret += torch.where(is_small, n, val_if_large)
    return ret


def act_fn(name):
    if name == "gelu":
        return lambda x: torch.nn.functional.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "relu":
        return torch.relu
    raise ValueError(name)


def forward(W, cfg, kind, ids_list, causal=False):
    """Padded batch forward in float64; returns hidden (B, L, h) and mask (B, L)."""
    T = lambda n: torch.tensor(W[n], dtype=torch.float64)
    h, H, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    pad = cfg.get("pad_token_id", 0)
    B, L = len(ids_list), max(len(x) for x in ids_list)
    ids = torch.full((B, L), pad, dtype=torch.long)
    mask = torch.zeros((B, L), dtype=torch.float64)
    for b, x in enumerate(ids_list):
        ids[b, :len(x)] = torch.tensor(x)
        mask[b, :len(x)] = 1
    if kind == "bert":
        pos = torch.arange(L).unsqueeze(0).expand(B, L)
    else:
        m = ids.ne(pad).long()
        pos = torch.cumsum(m, dim=1) * m + pad
    x = T("embeddings.word_embeddings.weight")[ids] + T("embeddings.position_embeddings.weight")[pos]
    if kind != "mpnet":
        x = x + T("embeddings.token_type_embeddings.weight")[0]
    ln = lambda x, n: torch.nn.functional.layer_norm(x, (h,), T(n + ".weight"), T(n + ".bias"), eps)
    x = ln(x, "embeddings.LayerNorm")
    ext = (1.0 - mask[:, None, None, :]) * -1e30
    if causal:
        tri = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
        ext = ext + torch.where(tri, torch.tensor(-1e30, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64))[None, None]
    bias = None
    if kind == "mpnet":
        ctx = torch.arange(L)[:, None]
        mem = torch.arange(L)[None, :]
        bk = mpnet_bucket(mem - ctx)
        bias = T("encoder.relative_attention_bias.weight")[bk].permute(2, 0, 1).unsqueeze(0)   # (1, H, L, L)
    act = act_fn(cfg["hidden_act"])
    dh = h // H
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        if kind == "mpnet":
            nq, nk, nv, no, nln1 = (p + "attention.attn.q", p + "attention.attn.k", p + "attention.attn.v",
                                    p + "attention.attn.o", p + "attention.LayerNorm")
        else:
            nq, nk, nv, no, nln1 = (p + "attention.self.query", p + "attention.self.key", p + "attention.self.value",
                                    p + "attention.output.dense", p + "attention.output.LayerNorm")
        lin = lambda x, n: x @ T(n + ".weight").T + T(n + ".bias")
        split = lambda t: t.view(B, L, H, dh).permute(0, 2, 1, 3)
        q, k, v = split(lin(x, nq)), split(lin(x, nk)), split(lin(x, nv))
        sc = q @ k.transpose(-1, -2) / math.sqrt(dh)
        if bias is not None:
            sc = sc + bias
        sc = sc + ext
        pr = torch.softmax(sc, dim=-1)
        c = (pr @ v).permute(0, 2, 1, 3).reshape(B, L, h)
        x = ln(lin(c, no) + x, nln1)
        it = act(lin(x, p + "intermediate.dense"))
        x = ln(lin(it, p + "output.dense") + x, p + "output.LayerNorm")
    return x, mask


def pool(x, mask, kind, n_instr=None, normalize=False):
    B, L, h = x.shape
    m = mask.clone()
    if n_instr is not None:
        for b in range(B):
            if n_instr[b] < int(mask[b].sum()):
                m[b, :n_instr[b]] = 0
    if kind == "cls":
        out = x[:, 0]
    elif kind == "last":
        lens = mask.sum(1).long()
        out = torch.stack([x[b, lens[b] - 1] for b in range(B)])
    elif kind == "mean":
        out = (x * m[..., None]).sum(1) / torch.clamp(m.sum(1, keepdim=True), min=1e-9)
    elif kind == "max":   # sentence-transformers: masked tokens set to -1e9, then the max over tokens
        out = torch.where(m[..., None] > 0, x, torch.tensor(-1e9, dtype=x.dtype)).max(dim=1).values
    elif kind == "mean_sqrt_len":   # sum / sqrt(number of tokens)
        out = (x * m[..., None]).sum(1) / torch.sqrt(torch.clamp(m.sum(1, keepdim=True), min=1e-9))
    elif kind == "weightedmean":
        w = torch.arange(1, L + 1, dtype=torch.float64)[None, :] * m
        out = (x * w[..., None]).sum(1) / torch.clamp(w.sum(1, keepdim=True), min=1e-9)
    else:
        raise ValueError(kind)
    if normalize:
        out = torch.nn.functional.normalize(out, p=2, dim=1)
    return out


# ---- fixtures ---------------------------------------------------------------------------------------
MODELS = [
    # name, kind, model_type, dtype, shards, seed, act, tokenizer ("json" | "vocab"), sentence-transformers files
    dict(name="bert-tiny", kind="bert", model_type="bert", dtype="F32", shards=1, seed=1, act="gelu", tok="json",
         st=dict(pooling="mean", normalize=True, max_seq_length=48, prompts={"query": "query: ", "document": "passage: "},
                 include_prompt=True), prefix=""),
    dict(name="bert-tiny-bf16", kind="bert", model_type="bert", dtype="BF16", shards=2, seed=2, act="gelu_new", tok="vocab",
         st=None, prefix="bert."),
    dict(name="roberta-tiny", kind="roberta", model_type="roberta", dtype="F16", shards=1, seed=3, act="gelu", tok="json",
         st=dict(pooling="cls", normalize=False, max_seq_length=None, prompts=None, include_prompt=True), prefix=""),
    dict(name="mpnet-tiny", kind="mpnet", model_type="mpnet", dtype="F32", shards=1, seed=4, act="gelu", tok="json",
         st=dict(pooling="mean", normalize=True, max_seq_length=None, prompts=None, include_prompt=True), prefix=""),
    # dense: (in, out, activation, bias, dtype)
    dict(name="bert-tiny-dense", kind="bert", model_type="bert", dtype="F32", shards=1, seed=5, act="gelu", tok="json",
         st=dict(pooling="cls", normalize=True, max_seq_length=None, prompts=None, include_prompt=True,
                 dense=[(64, 48, "Tanh", True, "F32"), (48, 32, "Identity", False, "BF16")]), prefix=""),
]

DENSE_ACT = {"Tanh": torch.tanh, "Identity": lambda t: t}


def apply_dense(v, dense):
    """v (B, in) float64 -> the Dense chain; dense: [(W (out, in), b or None, activation name)]."""
    for W, b, act in dense:
        v = v @ torch.tensor(W, dtype=torch.float64).T
        if b is not None:
            v = v + torch.tensor(b, dtype=torch.float64)
        v = DENSE_ACT[act](v)
    return v


def main():
    torch.set_grad_enabled(False)
    only = set(sys.argv[1:])
    unknown = only - {M["name"] for M in MODELS}
    if unknown:
        sys.exit(f"unknown model(s): {sorted(unknown)}")
    for M in MODELS:
        if only and M["name"] not in only:
            continue
        d = os.path.join(OUT, M["name"])
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
        if M["kind"] == "bert":
            specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
            cls, sep, unk, pad = "[CLS]", "[SEP]", "[UNK]", 0
        else:
            specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
            cls, sep, unk, pad = "<s>", "</s>", "<unk>", 1
        vocab = build_vocab(specials)
        P = 64 if M["kind"] == "bert" else 66
        cfg = {
            "architectures": [{"bert": "BertModel", "roberta": "RobertaModel", "mpnet": "MPNetModel"}[M["kind"]]],
            "model_type": M["model_type"], "vocab_size": len(vocab), "hidden_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "intermediate_size": 128, "max_position_embeddings": P,
            "hidden_act": M["act"], "layer_norm_eps": 1e-12 if M["kind"] == "bert" else 1e-5, "pad_token_id": pad,
            "_name_or_path": "cmteb-fixtures/" + M["name"], "torch_dtype": "float32",
        }
        if M["kind"] != "mpnet":
            cfg["type_vocab_size"] = 2 if M["kind"] == "bert" else 1
            cfg["position_embedding_type"] = "absolute"
        if M["kind"] == "mpnet":
            cfg["relative_attention_num_buckets"] = 32
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        rng = np.random.default_rng(M["seed"])
        W = make_weights(cfg, M["kind"], rng, M["prefix"])
        if M["shards"] == 1:
            write_safetensors(os.path.join(d, "model.safetensors"), W, M["dtype"])
        else:
            names = sorted(W)
            parts = [names[: len(names) // 2], names[len(names) // 2:]]
            wm = {}
            for k, part in enumerate(parts):
                fn = f"model-{k + 1:05d}-of-{len(parts):05d}.safetensors"
                write_safetensors(os.path.join(d, fn), {n: W[n] for n in part}, M["dtype"])
                for n in part:
                    wm[n] = fn
            with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {"total_size": 0}, "weight_map": wm}, f, indent=2)
        Wr = {k[len(M["prefix"]):]: stored_value(v, M["dtype"]) for k, v in W.items()}
        # tokenizer
        tok_json = os.path.join(d, "tokenizer.json")
        vocab_ids = {t: i for i, t in enumerate(vocab)}
        node({"cmd": "build", "out": tok_json, "vocab": vocab, "lowercase": True, "unk": unk, "specials": specials,
              "template": f"{cls} $A {sep}", "template_ids": [[cls, vocab_ids[cls]], [sep, vocab_ids[sep]]],
              "max_length": 0})
        if M["tok"] == "vocab":
            with open(os.path.join(d, "vocab.txt"), "w") as f:
                f.write("\n".join(vocab) + "\n")
            tok_ref = os.path.join(d, "tokenizer.json")
        else:
            tok_ref = tok_json
        st = M["st"]
        default_pool, default_norm, max_len = "mean", False, P - (0 if M["kind"] == "bert" else pad + 1)
        dense = []
        if st:
            mods = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
            drng = np.random.default_rng(100 + M["seed"])
            for (din, dout, dact, dbias, ddtype) in st.get("dense", []):
                k = len(mods)
                path = f"{k}_Dense"
                os.makedirs(os.path.join(d, path))
                mods.append({"idx": k, "name": str(k), "path": path, "type": "sentence_transformers.models.Dense"})
                with open(os.path.join(d, path, "config.json"), "w") as f:
                    json.dump({"in_features": din, "out_features": dout, "bias": dbias,
                               "activation_function": "torch.nn.modules." + ("activation." if dact != "Identity"
                                                                             else "linear.") + dact}, f, indent=2)
                Wd = {"linear.weight": (drng.standard_normal((dout, din)) * 0.3).astype(np.float32)}
                if dbias:
                    Wd["linear.bias"] = (drng.standard_normal(dout) * 0.1).astype(np.float32)
                write_safetensors(os.path.join(d, path, "model.safetensors"), Wd, ddtype)
                dense.append((stored_value(Wd["linear.weight"], ddtype),
                              stored_value(Wd["linear.bias"], ddtype) if dbias else None, dact))
            if st["normalize"]:
                k = len(mods)
                mods.append({"idx": k, "name": str(k), "path": f"{k}_Normalize",
                             "type": "sentence_transformers.models.Normalize"})
                os.makedirs(os.path.join(d, f"{k}_Normalize"))
            with open(os.path.join(d, "modules.json"), "w") as f:
                json.dump(mods, f, indent=2)
            os.makedirs(os.path.join(d, "1_Pooling"))
            with open(os.path.join(d, "1_Pooling", "config.json"), "w") as f:
                json.dump({"word_embedding_dimension": 64, "pooling_mode_cls_token": st["pooling"] == "cls",
                           "pooling_mode_mean_tokens": st["pooling"] == "mean", "pooling_mode_max_tokens": False,
                           "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
                           "pooling_mode_lasttoken": False, "include_prompt": st["include_prompt"]}, f, indent=2)
            if st["max_seq_length"]:
                with open(os.path.join(d, "sentence_bert_config.json"), "w") as f:
                    json.dump({"max_seq_length": st["max_seq_length"], "do_lower_case": False}, f, indent=2)
                max_len = st["max_seq_length"]
            if st["prompts"]:
                with open(os.path.join(d, "config_sentence_transformers.json"), "w") as f:
                    json.dump({"prompts": st["prompts"], "default_prompt_name": None}, f, indent=2)
            default_pool, default_norm = st["pooling"], st["normalize"]
        cases = []

        def run_case(name, pooling, normalize, prefix="", exclude=False, attention="bidirectional", ml=None,
                     role="document", instruction=None, query_template=None):
            ml = ml or max_len
            texts = [prefix + t for t in TEXTS]
            ids = node({"cmd": "encode", "tokenizer": tok_ref, "texts": texts, "max_length": ml})["ids"]
            n_instr = None
            if prefix:
                pl = len(node({"cmd": "encode", "tokenizer": tok_ref, "texts": [prefix], "max_length": 0})["ids"][0]) - 1
                n_instr = [pl] * len(texts) if exclude else None
            x, mask = forward(Wr, cfg, M["kind"], ids, causal=attention == "causal")
            v = pool(x, mask, pooling, n_instr, normalize and not dense)
            if dense:
                v = apply_dense(v, dense)
                if normalize:
                    v = torch.nn.functional.normalize(v, p=2, dim=1)
            cases.append({"name": name, "pooling": pooling, "normalize": normalize, "exclude_instr": exclude,
                          "attention": attention, "role": role, "instruction": instruction,
                          "query_template": query_template, "max_length": ml if ml != max_len else 0,
                          "ids": ids, "vectors": [[float(y) for y in row] for row in v.numpy()]})

        run_case("default", default_pool, default_norm,
                 prefix=(st["prompts"]["document"] if st and st["prompts"] else ""))
        for p in ["cls", "mean", "last", "weightedmean", "max", "mean_sqrt_len"]:
            run_case("pool_" + p, p, False, prefix=(st["prompts"]["document"] if st and st["prompts"] else ""))
        run_case("causal_mean", "mean", False, attention="causal",
                 prefix=(st["prompts"]["document"] if st and st["prompts"] else ""))
        run_case("maxlen12", "mean", True, ml=12, prefix=(st["prompts"]["document"] if st and st["prompts"] else ""))
        if st and st["prompts"]:
            run_case("query_prompt_excluded", "mean", True, prefix=st["prompts"]["query"], exclude=True, role="query")
            tmpl = "Instruct: {instruction}\nQuery: "
            ins = "Find sentences with the same meaning"
            run_case("instruction_excluded", "mean", False, prefix=tmpl.replace("{instruction}", ins), exclude=True,
                     role="query", instruction=ins, query_template=tmpl)
            run_case("instruction_kept_weighted", "weightedmean", False, prefix=tmpl.replace("{instruction}", ins),
                     exclude=False, role="query", instruction=ins, query_template=tmpl)
            run_case("query_prompt_excluded_max", "max", False, prefix=st["prompts"]["query"], exclude=True,
                     role="query")
        if M["tok"] == "vocab":
            os.remove(tok_json)
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"model": M["name"], "texts": TEXTS, "cases": cases}, f)
        print(f"{M['name']}: {len(vocab)} tokens, {len(cases)} cases, dtype {M['dtype']}", file=sys.stderr)


if __name__ == "__main__":
    main()
