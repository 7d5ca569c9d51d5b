#!/usr/bin/python3
"""ref_enc_models.py: builds small random-weight NomicBert, JinaBert and ModernBERT models in the Hugging Face
hub layout and writes their embeddings, computed here with Debian's python3-torch in float64 (no `transformers`
package and no remote code: the math below is written from the architectures' published descriptions), for
tests/unit/test_enc_archs.c.

  nomic-tiny       nomic-embed-text style (model_type "nomic_bert"): word + token-type embeddings, emb_ln,
                   post-norm layers, fused bias-free Wqkv, rotary positions (rotary_emb_base, rotate-half
                   pairs over rotary_emb_fraction of each head), SwiGLU MLP fc2(fc11(x) * silu(fc12(x))).
                   sentence-transformers: mean pooling + Normalize, prompts "search_query: "/"search_document: ".
  jina-tiny        jina-embeddings-v2 style (model_type "bert", position_embedding_type "alibi"): no position
                   embeddings, ALiBi bias -slope_h * |i - j| with the ALiBi paper's slopes for 6 heads (not a
                   power of two, like the real 12), GLU MLP gelu(first half) * second half of gated_layers,
                   wo, mlp.layernorm. F16 weights. mean pooling, no Normalize.
  modernbert-tiny  ModernBERT style (model_type "modernbert", tensors under "model."): embedding norm, pre-norm
                   layers (no attn_norm in layer 0), global attention every 2nd layer (global_rope_theta),
                   sliding-window attention (|i - j| <= local_attention / 2, local_rope_theta) otherwise, GeGLU
                   MLP gelu(a) * g from Wi, final_norm, no biases. CLS pooling + Normalize.

Token ids come from Hugging Face `tokenizers` (npm, tests/reference/ref_tok_encode.js) on bert-tiny's
tokenizer.json (copied into each folder). Padded batches with attention masks, as HF runs them; the C engine
packs sequences without padding. Texts include ones far longer than modernbert-tiny's local window (8).
Cases: the folder's default, every generic pooling, the query prompt excluded from the pool, and Matryoshka
truncation (--dim 24: the first 24 values, renormalised when the model normalises).

Writes tests/fixtures/hf/<model>/ (config.json, model.safetensors, tokenizer.json, sentence-transformers files,
expected.json {"texts", "cases": [{"name", "pooling", "normalize", "exclude_instr", "role", "dim", "ids",
"vectors"}]}).

Usage: (cd tests/reference && npm ci) && /usr/bin/python3 tests/reference/ref_enc_models.py
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_bert_models as rb  # noqa: E402  (safetensors writer, npm tokenizer bridge, poolings)

OUT = rb.OUT
TEXTS = rb.TEXTS + [
    "the cat sat on the mat while the dogs barked loudly at strangers walking by quickly tonight and the sun "
    "was shining over the hills while cats and dogs are playing in the garden of the house of a man playing "
    "a guitar and the quick brown fox jumps over the lazy dog",
]
F64 = torch.float64


def ln(x, g, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    y = (x - mu) / torch.sqrt(var + eps) * g
    return y + b if b is not None else y


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def silu(x):
    return x / (1.0 + torch.exp(-x))


def rope(x, theta, rot):
    """x (B, L, H, dh): rotate-half rotary positions 0..L-1 on the first rot dims of each head."""
    L = x.shape[1]
    inv = 1.0 / (theta ** (torch.arange(0, rot, 2, dtype=F64) / rot))
    ang = torch.arange(L, dtype=F64)[:, None] * inv[None, :]
    cos, sin = torch.cos(ang)[None, :, None, :], torch.sin(ang)[None, :, None, :]
    half = rot // 2
    x1, x2, rest = x[..., :half], x[..., half:rot], x[..., rot:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], dim=-1)


def alibi_slopes(n):
    """The ALiBi paper's head slopes: geometric from 2^(-8/n) for a power of two n; otherwise the closest
    lower power of two's slopes followed by every other slope of twice that many heads."""
    def pow2(m):
        start = 2.0 ** (-8.0 / m)
        return [start ** (i + 1) for i in range(m)]
    if math.log2(n).is_integer():
        return pow2(n)
    p = 2 ** int(math.floor(math.log2(n)))
    return pow2(p) + alibi_slopes(2 * p)[0::2][: n - p]


def attention(q, k, v, mask, bias=None):
    """q, k, v (B, L, H, dh); mask (B, L) of real tokens; bias (H, L, L) or None -> (B, L, H*dh)."""
    B, L, H, dh = q.shape
    s = torch.einsum("bihd,bjhd->bhij", q, k) / math.sqrt(dh)
    if bias is not None:
        s = s + bias[None]
    s = s.masked_fill(mask[:, None, None, :] == 0, float("-inf"))
    p = torch.nan_to_num(torch.softmax(s, dim=-1), nan=0.0)   # padded queries near no real key: all masked
    return torch.einsum("bhij,bjhd->bihd", p, v).reshape(B, L, H * dh)


def pad_ids(ids_list):
    L = max(len(x) for x in ids_list)
    ids = torch.zeros((len(ids_list), L), dtype=torch.long)
    mask = torch.zeros((len(ids_list), L), dtype=F64)
    for b, x in enumerate(ids_list):
        ids[b, :len(x)] = torch.tensor(x)
        mask[b, :len(x)] = 1
    return ids, mask


def T(W, name):
    return torch.tensor(W[name], dtype=F64)


def fwd_nomic(W, cfg, ids_list):
    ids, mask = pad_ids(ids_list)
    h, H = cfg["n_embd"], cfg["n_head"]
    dh = h // H
    rot = int(dh * cfg["rotary_emb_fraction"])
    eps = cfg["layer_norm_epsilon"]
    x = T(W, "embeddings.word_embeddings.weight")[ids] + T(W, "embeddings.token_type_embeddings.weight")[0]
    x = ln(x, T(W, "emb_ln.weight"), T(W, "emb_ln.bias"), eps)
    B, L, _ = x.shape
    for i in range(cfg["n_layer"]):
        p = f"encoder.layers.{i}."
        qkv = x @ T(W, p + "attn.Wqkv.weight").T
        q, k, v = (t.reshape(B, L, H, dh) for t in qkv.split(h, dim=-1))
        q, k = rope(q, cfg["rotary_emb_base"], rot), rope(k, cfg["rotary_emb_base"], rot)
        a = attention(q, k, v, mask) @ T(W, p + "attn.out_proj.weight").T
        x = ln(x + a, T(W, p + "norm1.weight"), T(W, p + "norm1.bias"), eps)
        m = (x @ T(W, p + "mlp.fc11.weight").T) * silu(x @ T(W, p + "mlp.fc12.weight").T)
        x = ln(x + m @ T(W, p + "mlp.fc2.weight").T, T(W, p + "norm2.weight"), T(W, p + "norm2.bias"), eps)
    return x, mask


def fwd_jina(W, cfg, ids_list):
    ids, mask = pad_ids(ids_list)
    h, H, I = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"]
    dh = h // H
    eps = cfg["layer_norm_eps"]
    x = T(W, "embeddings.word_embeddings.weight")[ids] + T(W, "embeddings.token_type_embeddings.weight")[0]
    x = ln(x, T(W, "embeddings.LayerNorm.weight"), T(W, "embeddings.LayerNorm.bias"), eps)
    B, L, _ = x.shape
    pos = torch.arange(L, dtype=F64)
    dist = (pos[None, :] - pos[:, None]).abs()
    bias = -torch.tensor(alibi_slopes(H), dtype=F64)[:, None, None] * dist[None]
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q, k, v = ((x @ T(W, p + f"attention.self.{n}.weight").T + T(W, p + f"attention.self.{n}.bias"))
                   .reshape(B, L, H, dh) for n in ("query", "key", "value"))
        a = attention(q, k, v, mask, bias) @ T(W, p + "attention.output.dense.weight").T
        a = a + T(W, p + "attention.output.dense.bias")
        x = ln(x + a, T(W, p + "attention.output.LayerNorm.weight"), T(W, p + "attention.output.LayerNorm.bias"), eps)
        g = x @ T(W, p + "mlp.gated_layers.weight").T
        m = gelu(g[..., :I]) * g[..., I:]
        m = m @ T(W, p + "mlp.wo.weight").T + T(W, p + "mlp.wo.bias")
        x = ln(x + m, T(W, p + "mlp.layernorm.weight"), T(W, p + "mlp.layernorm.bias"), eps)
    return x, mask


def fwd_modernbert(W, cfg, ids_list):
    ids, mask = pad_ids(ids_list)
    h, H, I = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"]
    dh = h // H
    eps = cfg["norm_eps"]
    x = ln(T(W, "model.embeddings.tok_embeddings.weight")[ids], T(W, "model.embeddings.norm.weight"), None, eps)
    B, L, _ = x.shape
    pos = torch.arange(L, dtype=F64)
    dist = (pos[None, :] - pos[:, None]).abs()
    local_bias = torch.zeros((H, L, L), dtype=F64).masked_fill((dist > cfg["local_attention"] // 2)[None],
                                                                float("-inf"))
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        is_global = i % cfg["global_attn_every_n_layers"] == 0
        theta = cfg["global_rope_theta"] if is_global else cfg["local_rope_theta"]
        y = x if i == 0 else ln(x, T(W, p + "attn_norm.weight"), None, eps)
        q, k, v = ((y @ T(W, p + "attn.Wqkv.weight").T).reshape(B, L, 3, H, dh)).unbind(dim=2)
        q, k = rope(q, theta, dh), rope(k, theta, dh)
        x = x + attention(q, k, v, mask, None if is_global else local_bias) @ T(W, p + "attn.Wo.weight").T
        y = ln(x, T(W, p + "mlp_norm.weight"), None, eps)
        a, g = (y @ T(W, p + "mlp.Wi.weight").T).chunk(2, dim=-1)
        x = x + (gelu(a) * g) @ T(W, p + "mlp.Wo.weight").T
    return ln(x, T(W, "model.final_norm.weight"), None, eps), mask


def weights_nomic(cfg, rng):
    h, I, V = cfg["n_embd"], cfg["n_inner"], cfg["vocab_size"]
    r = lambda *s, sc=0.2: (rng.standard_normal(s) * sc).astype(np.float32)  # noqa: E731
    W = {"embeddings.word_embeddings.weight": r(V, h, sc=0.5), "embeddings.token_type_embeddings.weight": r(2, h),
         "emb_ln.weight": 1 + r(h, sc=0.1), "emb_ln.bias": r(h, sc=0.1)}
    for i in range(cfg["n_layer"]):
        p = f"encoder.layers.{i}."
        W.update({p + "attn.Wqkv.weight": r(3 * h, h), p + "attn.out_proj.weight": r(h, h),
                  p + "norm1.weight": 1 + r(h, sc=0.1), p + "norm1.bias": r(h, sc=0.1),
                  p + "mlp.fc11.weight": r(I, h), p + "mlp.fc12.weight": r(I, h), p + "mlp.fc2.weight": r(h, I),
                  p + "norm2.weight": 1 + r(h, sc=0.1), p + "norm2.bias": r(h, sc=0.1)})
    return W


def weights_jina(cfg, rng):
    h, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    r = lambda *s, sc=0.2: (rng.standard_normal(s) * sc).astype(np.float32)  # noqa: E731
    W = {"embeddings.word_embeddings.weight": r(V, h, sc=0.5), "embeddings.token_type_embeddings.weight": r(2, h),
         "embeddings.LayerNorm.weight": 1 + r(h, sc=0.1), "embeddings.LayerNorm.bias": r(h, sc=0.1)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for n in ("query", "key", "value"):
            W[p + f"attention.self.{n}.weight"] = r(h, h)
            W[p + f"attention.self.{n}.bias"] = r(h, sc=0.1)
        W.update({p + "attention.output.dense.weight": r(h, h), p + "attention.output.dense.bias": r(h, sc=0.1),
                  p + "attention.output.LayerNorm.weight": 1 + r(h, sc=0.1),
                  p + "attention.output.LayerNorm.bias": r(h, sc=0.1),
                  p + "mlp.gated_layers.weight": r(2 * I, h), p + "mlp.wo.weight": r(h, I),
                  p + "mlp.wo.bias": r(h, sc=0.1),
                  p + "mlp.layernorm.weight": 1 + r(h, sc=0.1), p + "mlp.layernorm.bias": r(h, sc=0.1)})
    return W


def weights_modernbert(cfg, rng):
    h, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    r = lambda *s, sc=0.2: (rng.standard_normal(s) * sc).astype(np.float32)  # noqa: E731
    W = {"model.embeddings.tok_embeddings.weight": r(V, h, sc=0.5), "model.embeddings.norm.weight": 1 + r(h, sc=0.1),
         "model.final_norm.weight": 1 + r(h, sc=0.1)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        if i > 0:
            W[p + "attn_norm.weight"] = 1 + r(h, sc=0.1)
        W.update({p + "attn.Wqkv.weight": r(3 * h, h), p + "attn.Wo.weight": r(h, h),
                  p + "mlp_norm.weight": 1 + r(h, sc=0.1), p + "mlp.Wi.weight": r(2 * I, h),
                  p + "mlp.Wo.weight": r(h, I)})
    return W


V = 156   # bert-tiny's tokenizer.json
MODELS = [
    dict(name="nomic-tiny", seed=11, dtype="F32", fwd=fwd_nomic, weights=weights_nomic, width=64,
         cfg={"architectures": ["NomicBertModel"], "model_type": "nomic_bert", "activation_function": "swiglu",
              "vocab_size": V, "n_embd": 64, "n_head": 4, "n_inner": 96, "n_layer": 2, "n_positions": 512,
              "type_vocab_size": 2, "layer_norm_epsilon": 1e-12, "rotary_emb_base": 1000, "rotary_emb_fraction": 1.0,
              "rotary_emb_interleaved": False, "rotary_scaling_factor": None, "qkv_proj_bias": False,
              "mlp_fc1_bias": False, "mlp_fc2_bias": False, "prenorm": False, "use_rms_norm": False, "causal": False,
              "parallel_block": False, "pad_token_id": 0},
         st=dict(pooling="mean", normalize=True, prompts={"query": "search_query: ", "document": "search_document: "})),
    dict(name="jina-tiny", seed=12, dtype="F16", fwd=fwd_jina, weights=weights_jina, width=96,
         cfg={"architectures": ["JinaBertForMaskedLM"], "model_type": "bert", "position_embedding_type": "alibi",
              "feed_forward_type": "geglu", "hidden_act": "gelu", "vocab_size": V, "hidden_size": 96,
              "num_attention_heads": 6, "intermediate_size": 128, "num_hidden_layers": 2,
              "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0},
         st=dict(pooling="mean", normalize=False, prompts=None)),
    dict(name="modernbert-tiny", seed=13, dtype="F32", fwd=fwd_modernbert, weights=weights_modernbert, width=64,
         cfg={"architectures": ["ModernBertModel"], "model_type": "modernbert", "vocab_size": V, "hidden_size": 64,
              "num_attention_heads": 4, "intermediate_size": 96, "num_hidden_layers": 3,
              "max_position_embeddings": 512, "global_attn_every_n_layers": 2, "local_attention": 8,
              "global_rope_theta": 160000.0, "local_rope_theta": 10000.0, "norm_eps": 1e-5, "norm_bias": False,
              "attention_bias": False, "mlp_bias": False, "hidden_activation": "gelu", "pad_token_id": 0},
         st=dict(pooling="cls", normalize=True, prompts=None)),
]
DIM = 24


def main():
    torch.set_grad_enabled(False)
    tok_src = os.path.join(OUT, "bert-tiny", "tokenizer.json")
    for M in MODELS:
        d = os.path.join(OUT, M["name"])
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
        cfg = dict(M["cfg"], _name_or_path="cmteb-fixtures/" + M["name"], torch_dtype="float32")
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        W = M["weights"](cfg, np.random.default_rng(M["seed"]))
        rb.write_safetensors(os.path.join(d, "model.safetensors"), W, M["dtype"])
        Wr = {k: rb.stored_value(v, M["dtype"]) for k, v in W.items()}
        tok = os.path.join(d, "tokenizer.json")
        shutil.copyfile(tok_src, tok)
        st = M["st"]
        mods = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
        if st["normalize"]:
            mods.append({"idx": 2, "name": "2", "path": "2_Normalize",
                         "type": "sentence_transformers.models.Normalize"})
            os.makedirs(os.path.join(d, "2_Normalize"))
        with open(os.path.join(d, "modules.json"), "w") as f:
            json.dump(mods, f, indent=2)
        os.makedirs(os.path.join(d, "1_Pooling"))
        with open(os.path.join(d, "1_Pooling", "config.json"), "w") as f:
            json.dump({"word_embedding_dimension": M["width"], "pooling_mode_cls_token": st["pooling"] == "cls",
                       "pooling_mode_mean_tokens": st["pooling"] == "mean", "pooling_mode_max_tokens": False,
                       "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
                       "pooling_mode_lasttoken": False, "include_prompt": True}, f, indent=2)
        if st["prompts"]:
            with open(os.path.join(d, "config_sentence_transformers.json"), "w") as f:
                json.dump({"prompts": st["prompts"], "default_prompt_name": None}, f, indent=2)
        doc_prefix = st["prompts"]["document"] if st["prompts"] else ""
        cases = []

        def run_case(name, pooling, normalize, prefix="", exclude=False, role="document", dim=0):
            texts = [prefix + t for t in TEXTS]
            ids = rb.node({"cmd": "encode", "tokenizer": tok, "texts": texts, "max_length": 512})["ids"]
            n_instr = None
            if prefix and exclude:
                pl = len(rb.node({"cmd": "encode", "tokenizer": tok, "texts": [prefix], "max_length": 0})["ids"][0]) - 1
                n_instr = [pl] * len(texts)
            x, mask = M["fwd"](Wr, cfg, ids)
            v = rb.pool(x, mask, pooling, n_instr, normalize)
            if dim:
                v = v[:, :dim]
                if normalize:
                    v = torch.nn.functional.normalize(v, p=2, dim=1)
            cases.append({"name": name, "pooling": pooling, "normalize": normalize, "exclude_instr": exclude,
                          "role": role, "dim": dim, "ids": ids,
                          "vectors": [[float(y) for y in row] for row in v.numpy()]})

        run_case("default", st["pooling"], st["normalize"], prefix=doc_prefix)
        for p in ["cls", "mean", "last", "weightedmean", "max", "mean_sqrt_len"]:
            run_case("pool_" + p, p, False, prefix=doc_prefix)
        run_case("dim", st["pooling"], st["normalize"], prefix=doc_prefix, dim=DIM)
        run_case("dim_mean_nonorm", "mean", False, prefix=doc_prefix, dim=DIM)
        if st["prompts"]:
            run_case("query_prompt_excluded", "mean", True, prefix=st["prompts"]["query"], exclude=True, role="query")
        lens = [len(x) for x in cases[0]["ids"]]
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"model": M["name"], "texts": TEXTS, "cases": cases}, f)
        print(f"{M['name']}: {len(cases)} cases, token counts {min(lens)}..{max(lens)}", file=sys.stderr)


if __name__ == "__main__":
    main()
