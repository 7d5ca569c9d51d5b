#!/usr/bin/python3
"""ref_dec_models.py: small random-weight decoder embedding models in the Hugging Face hub layouts, and their
embeddings computed here in float64 torch from the architecture descriptions (Mistral / Llama / Qwen2 decoder
layers; NV-Embed's latent-attention pooling as ../shared/spec/engine.md section 1 describes it). No
`transformers`: the math below is written out from those descriptions. Run with Debian's /usr/bin/python3
(python3-torch); token ids come from Hugging Face `tokenizers` through ref_dec_tokenize.js (node).

Writes tests/fixtures/dec/:
  mistral_tiny/   model_type mistral, model.* names + lm_head, BF16, one model.safetensors, sliding_window 6
  qwen2_tiny/     model_type qwen2, q/k/v biases, rope_theta 1e6, BF16, 2 shards + model.safetensors.index.json
                  (use_sliding_window false with sliding_window 4: the window must be ignored)
  llama_tiny/     model_type llama, explicit head_dim 24 (!= hidden/heads), rope_theta 5e5, F32 weights
  qwen3_tiny/     model_type qwen3: per-head q/k RMSNorm before RoPE, explicit head_dim 16 (!= 32/4), BF16
  nvembed_tiny/   model_type nvembed: embedding_model.* + latent_attention_model.*, text_config
                  (bidir_mistral), latent_attention_config with explicit small sizes (16 latents, 8 heads of 8),
                  BF16, 3 shards + index
  each with tokenizer.json (a reduced Mistral or Qwen tokenizer from tests/fixtures/dec/tok/) and
  expected.json.gz: for every case the token ids, n_instr, and the embeddings of every pooling (and, for the first
  text, the final hidden states) under bidirectional and causal attention.

Input formatting (as NV-Embed / E5-mistral and MTEB's NV-Embed wrapper do): queries get the prefix
"Instruct: {instruction}\\nQuery: ", documents none; the EOS string is appended as text ("</s>"; the Qwen
tokenizer's template appends <|endoftext|> itself); n_instr = len(tokenize(prefix)) without special tokens,
and the pooled mean leaves out positions [0, n_instr) when exclude_instr (NV-Embed's pool mask).

Usage: /usr/bin/python3 tests/reference/ref_dec_models.py
"""
import gzip
import json
import math
import os
import struct
import subprocess

import torch

torch.manual_seed(20240607)
SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(SRC, 'tests', 'fixtures', 'dec')
TOK = os.path.join(OUT, 'tok')
D = torch.float64

TEXTS = [
    "A man is playing a guitar.",
    "The quick brown fox jumps over the lazy dog\nand keeps running past the window of the old house.",
    "Hi",
    "R\u00e9sum\u00e9 \U0001F600 code: x = [1, 2]",
]
INSTRUCTION = "Given a claim, find documents that refute the claim"
PREFIX = "Instruct: {}\nQuery: "


# ---- safetensors ------------------------------------------------------------------------------------
def st_bytes(t, dtype):
    if dtype == 'BF16':
        return t.to(torch.bfloat16).contiguous().view(torch.int16).numpy().tobytes()
    return t.to(torch.float32).contiguous().numpy().tobytes()


def write_safetensors(path, tensors, dtype):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = st_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save_model(d, tensors, dtype, shards):
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith('.safetensors') or f.endswith('.index.json') or f.startswith('expected.json'):
            os.remove(os.path.join(d, f))
    names = list(tensors)
    if shards == 1:
        write_safetensors(os.path.join(d, 'model.safetensors'), tensors, dtype)
        return
    per = math.ceil(len(names) / shards)
    wmap, total = {}, 0
    for s in range(shards):
        fn = 'model-%05d-of-%05d.safetensors' % (s + 1, shards)
        part = {n: tensors[n] for n in names[s * per:(s + 1) * per]}
        write_safetensors(os.path.join(d, fn), part, dtype)
        for n, t in part.items():
            wmap[n] = fn
            total += t.numel() * (2 if dtype == 'BF16' else 4)
    with open(os.path.join(d, 'model.safetensors.index.json'), 'w') as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wmap}, f, indent=2)


def as_stored(t, dtype):
    """The weight as the C engine will see it (BF16 rounding), in float64."""
    return (t.to(torch.bfloat16) if dtype == 'BF16' else t.to(torch.float32)).to(D)


# ---- random weights ---------------------------------------------------------------------------------
def rnd(*shape, std=1.0):
    return torch.randn(*shape) * std


def decoder_weights(c, prefix, biases, qk_norm=False):
    h, nh, kv, hd, inter = c['hidden_size'], c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], c['intermediate_size']
    w = {prefix + 'embed_tokens.weight': rnd(c['vocab_size'], h)}
    for i in range(c['num_hidden_layers']):
        p = '%slayers.%d.' % (prefix, i)
        w[p + 'input_layernorm.weight'] = 1 + rnd(h, std=0.2)
        w[p + 'self_attn.q_proj.weight'] = rnd(nh * hd, h, std=h ** -0.5)
        w[p + 'self_attn.k_proj.weight'] = rnd(kv * hd, h, std=h ** -0.5)
        w[p + 'self_attn.v_proj.weight'] = rnd(kv * hd, h, std=h ** -0.5)
        if biases:
            w[p + 'self_attn.q_proj.bias'] = rnd(nh * hd, std=0.3)
            w[p + 'self_attn.k_proj.bias'] = rnd(kv * hd, std=0.3)
            w[p + 'self_attn.v_proj.bias'] = rnd(kv * hd, std=0.3)
        w[p + 'self_attn.o_proj.weight'] = rnd(h, nh * hd, std=(nh * hd) ** -0.5)
        if qk_norm:
            w[p + 'self_attn.q_norm.weight'] = 1 + rnd(hd, std=0.2)
            w[p + 'self_attn.k_norm.weight'] = 1 + rnd(hd, std=0.2)
        w[p + 'post_attention_layernorm.weight'] = 1 + rnd(h, std=0.2)
        w[p + 'mlp.gate_proj.weight'] = rnd(inter, h, std=h ** -0.5)
        w[p + 'mlp.up_proj.weight'] = rnd(inter, h, std=h ** -0.5)
        w[p + 'mlp.down_proj.weight'] = rnd(h, inter, std=inter ** -0.5)
    w[prefix + 'norm.weight'] = 1 + rnd(h, std=0.2)
    return w


def latent_weights(la, h):
    r, heads, dh = la['num_latents_value'], la['num_cross_heads'], la['cross_dim_head']
    inner, p = heads * dh, 'latent_attention_model.'
    return {
        p + 'latents': rnd(r, h),
        p + 'cross_attend_blocks.0.norm.weight': 1 + rnd(h, std=0.2),
        p + 'cross_attend_blocks.0.norm.bias': rnd(h, std=0.2),
        p + 'cross_attend_blocks.0.norm_context.weight': 1 + rnd(h, std=0.2),
        p + 'cross_attend_blocks.0.norm_context.bias': rnd(h, std=0.2),
        p + 'cross_attend_blocks.0.fn.to_q.weight': rnd(inner, h, std=h ** -0.5),
        p + 'cross_attend_blocks.0.fn.to_kv.weight': rnd(2 * inner, h, std=h ** -0.5),
        p + 'cross_attend_blocks.0.fn.to_out.weight': rnd(h, inner, std=inner ** -0.5),
        p + 'cross_attend_blocks.1.norm.weight': 1 + rnd(h, std=0.2),
        p + 'cross_attend_blocks.1.norm.bias': rnd(h, std=0.2),
        p + 'cross_attend_blocks.1.fn.net.0.weight': rnd(2 * 4 * h, h, std=h ** -0.5),
        p + 'cross_attend_blocks.1.fn.net.0.bias': rnd(2 * 4 * h, std=0.2),
        p + 'cross_attend_blocks.1.fn.net.2.weight': rnd(h, 4 * h, std=(4 * h) ** -0.5),
        p + 'cross_attend_blocks.1.fn.net.2.bias': rnd(h, std=0.2),
    }


# ---- the math -----------------------------------------------------------------------------------------
def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def layernorm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = (x - mu).pow(2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rope(x, theta):
    """x: (L, heads, hd); HF rotate-half layout, positions 0..L-1."""
    L, _, hd = x.shape
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=D) / hd))
    ang = torch.arange(L, dtype=D)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
    rot = torch.cat([-x2, x1], -1)
    return x * cos + rot * sin


def decoder_forward(c, w, prefix, ids, causal):
    h = w[prefix + 'embed_tokens.weight'][ids]
    L = len(ids)
    nh, kv, hd, eps = c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], c['rms_norm_eps']
    window = c.get('sliding_window') if c.get('use_sliding_window', True) else None
    allowed = torch.ones(L, L, dtype=torch.bool)
    if causal:
        allowed = torch.tril(allowed)
        if window:
            i = torch.arange(L)[:, None]
            j = torch.arange(L)[None, :]
            allowed &= (i - j) < window
    for layer in range(c['num_hidden_layers']):
        p = '%slayers.%d.' % (prefix, layer)
        x = rmsnorm(h, w[p + 'input_layernorm.weight'], eps)

        def proj(n):
            y = x @ w[p + 'self_attn.%s_proj.weight' % n].T
            b = w.get(p + 'self_attn.%s_proj.bias' % n)
            return y + b if b is not None else y
        q, k = proj('q').view(L, nh, hd), proj('k').view(L, kv, hd)
        if p + 'self_attn.q_norm.weight' in w:      # Qwen3: per-head RMSNorm on q and k before RoPE
            q = rmsnorm(q, w[p + 'self_attn.q_norm.weight'], eps)
            k = rmsnorm(k, w[p + 'self_attn.k_norm.weight'], eps)
        q = rope(q, c['rope_theta'])
        k = rope(k, c['rope_theta'])
        v = proj('v').view(L, kv, hd)
        rep = nh // kv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        s = torch.einsum('ihd,jhd->hij', q, k) / math.sqrt(hd)
        s = s.masked_fill(~allowed[None], float('-inf'))
        o = torch.einsum('hij,jhd->ihd', torch.softmax(s, -1), v).reshape(L, nh * hd)
        h = h + o @ w[p + 'self_attn.o_proj.weight'].T
        x = rmsnorm(h, w[p + 'post_attention_layernorm.weight'], eps)
        g = x @ w[p + 'mlp.gate_proj.weight'].T
        u = x @ w[p + 'mlp.up_proj.weight'].T
        h = h + (torch.nn.functional.silu(g) * u) @ w[p + 'mlp.down_proj.weight'].T
    return rmsnorm(h, w[prefix + 'norm.weight'], eps)


def latent_tokens(la, w, H):
    """NV-Embed latent attention over the token states H (L, d): returns the per-token outputs (L, d)."""
    p = 'latent_attention_model.cross_attend_blocks.'
    heads, dh = la['num_cross_heads'], la['cross_dim_head']
    q = layernorm(H, w[p + '0.norm.weight'], w[p + '0.norm.bias']) @ w[p + '0.fn.to_q.weight'].T
    ctx = layernorm(w['latent_attention_model.latents'], w[p + '0.norm_context.weight'], w[p + '0.norm_context.bias'])
    kvp = ctx @ w[p + '0.fn.to_kv.weight'].T
    k, v = kvp.chunk(2, dim=-1)
    L, r = H.shape[0], k.shape[0]
    qh, kh, vh = q.view(L, heads, dh), k.view(r, heads, dh), v.view(r, heads, dh)
    s = torch.einsum('ihd,jhd->hij', qh, kh) / math.sqrt(dh)
    o = torch.einsum('hij,jhd->ihd', torch.softmax(s, -1), vh).reshape(L, heads * dh)
    H1 = o @ w[p + '0.fn.to_out.weight'].T + H
    u = layernorm(H1, w[p + '1.norm.weight'], w[p + '1.norm.bias']) @ w[p + '1.fn.net.0.weight'].T + w[p + '1.fn.net.0.bias']
    a, g = u.chunk(2, dim=-1)
    ff = (a * torch.nn.functional.gelu(g)) @ w[p + '1.fn.net.2.weight'].T + w[p + '1.fn.net.2.bias']
    return ff + H1


def masked_mean(X, start):
    if start >= X.shape[0]:
        start = 0
    return X[start:].mean(0)


def l2(v):
    return v / v.norm()


# ---- tokenization through HF tokenizers (node) ------------------------------------------------------
def tokenize(items):
    r = subprocess.run(['node', os.path.join(SRC, 'tests', 'reference', 'ref_dec_tokenize.js')],
                       input=json.dumps(items).encode(), capture_output=True, check=True)
    return json.loads(r.stdout)


# ---- models ------------------------------------------------------------------------------------------
def mistral_like(name, model_type, arch, hidden, layers, heads, kv, inter, vocab, theta, eps, extra, tok, dtype,
                 shards, biases, head_dim=None, explicit_head_dim=False, eos_text='</s>', lm_head=False, qk_norm=False):
    c = {"architectures": [arch], "model_type": model_type, "hidden_size": hidden, "num_hidden_layers": layers,
         "num_attention_heads": heads, "num_key_value_heads": kv, "intermediate_size": inter, "vocab_size": vocab,
         "rms_norm_eps": eps, "rope_theta": theta, "hidden_act": "silu", "max_position_embeddings": 4096,
         "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False,
         "torch_dtype": "bfloat16" if dtype == 'BF16' else "float32"}
    c.update(extra)
    c['head_dim'] = head_dim or hidden // heads
    if not explicit_head_dim:
        cfg_out = {k: v for k, v in c.items() if k != 'head_dim'}
    else:
        cfg_out = dict(c)
    w = decoder_weights(c, 'model.', biases, qk_norm)
    if lm_head:
        w['lm_head.weight'] = rnd(vocab, hidden, std=0.1)     # present in causal-LM checkpoints; must be ignored
    d = os.path.join(OUT, name)
    save_model(d, w, dtype, shards)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(cfg_out, f, indent=2)
    with open(os.path.join(TOK, tok + '.tokenizer.json')) as f:
        tj = f.read()
    with open(os.path.join(d, 'tokenizer.json'), 'w') as f:
        f.write(tj)
    ws = {k: as_stored(v, dtype) for k, v in w.items()}
    return {"name": name, "cfg": c, "w": ws, "prefix": 'model.', "dir": d, "eos_text": eos_text, "latent": None}


def nvembed(name, tok):
    tc = {"model_type": "bidir_mistral", "architectures": ["MistralModel"], "hidden_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 1000,
          "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "sliding_window": 4096, "hidden_act": "silu",
          "max_position_embeddings": 32768, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}
    la = {"model_type": "latent_attention", "num_latents_value": 16, "num_cross_heads": 8, "hidden_dim": 64,
          "latent_dim": 64, "cross_dim_head": 8, "output_normalize": True}
    cfg = {"_name_or_path": "tiny-nvembed", "add_eos": True, "add_pad_token": True, "architectures": ["NVEmbedModel"],
           "hidden_size": 64, "is_mask_instruction": True, "latent_attention_config": la, "mask_type": "b",
           "model_type": "nvembed", "padding_side": "right", "text_config": tc, "torch_dtype": "bfloat16"}
    c = dict(tc)
    c['head_dim'] = 16
    w = decoder_weights(c, 'embedding_model.', False)
    w.update(latent_weights(la, 64))
    d = os.path.join(OUT, name)
    save_model(d, w, 'BF16', 3)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(TOK, tok + '.tokenizer.json')) as f:
        tj = f.read()
    with open(os.path.join(d, 'tokenizer.json'), 'w') as f:
        f.write(tj)
    ws = {k: as_stored(v, 'BF16') for k, v in w.items()}
    return {"name": name, "cfg": c, "w": ws, "prefix": 'embedding_model.', "dir": d, "eos_text": '</s>', "latent": la}


def vec(t):
    return [float('%.9g' % x) for x in t.tolist()]


def cases_for(m):
    tokpath = os.path.join(m['dir'], 'tokenizer.json')
    items, meta = [], []
    for ti, text in enumerate(TEXTS):
        for role in ('document', 'query'):
            prefix = PREFIX.format(INSTRUCTION) if role == 'query' else ''
            items.append({"tok": tokpath, "text": prefix + text + m['eos_text'], "special": True})
            items.append({"tok": tokpath, "text": prefix, "special": False})
            meta.append((ti, role, prefix))
    ids = tokenize(items)
    out = []
    for k, (ti, role, prefix) in enumerate(meta):
        seq, n_instr = ids[2 * k], (len(ids[2 * k + 1]) if prefix else 0)
        case = {"text": ti, "role": role, "instruction": INSTRUCTION if role == 'query' else None, "ids": seq,
                "n_instr": n_instr, "outputs": {}}
        for attn in ('bidirectional', 'causal'):
            H = decoder_forward(m['cfg'], m['w'], m['prefix'], torch.tensor(seq), attn == 'causal')
            o = case['outputs'].setdefault(attn, {})
            if ti == 0 and role == 'document':
                o['hidden'] = [vec(r) for r in H]
            o['last'] = vec(H[-1])
            o['mean'] = vec(masked_mean(H, 0))
            o['mean_excl'] = vec(masked_mean(H, n_instr))
            if m['latent']:
                T = latent_tokens(m['latent'], m['w'], H)
                o['latent'] = vec(l2(masked_mean(T, n_instr)))
                o['latent_incl'] = vec(l2(masked_mean(T, 0)))
        out.append(case)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    models = [
        mistral_like('mistral_tiny', 'mistral', 'MistralModel', 64, 2, 4, 2, 160, 1000, 10000.0, 1e-5,
                     {"sliding_window": 6}, 'mistral_small', 'BF16', 1, False, lm_head=True),
        mistral_like('qwen2_tiny', 'qwen2', 'Qwen2Model', 48, 2, 6, 2, 96, 1003, 1000000.0, 1e-6,
                     {"use_sliding_window": False, "sliding_window": 4, "bos_token_id": 1000, "eos_token_id": 1000},
                     'qwen_small', 'BF16', 2, True, eos_text=''),
        mistral_like('llama_tiny', 'llama', 'LlamaModel', 32, 2, 4, 2, 64, 1000, 500000.0, 1e-5,
                     {"attention_bias": False, "mlp_bias": False}, 'mistral_small', 'F32', 1, False,
                     head_dim=24, explicit_head_dim=True),
        nvembed('nvembed_tiny', 'mistral_small'),
        mistral_like('qwen3_tiny', 'qwen3', 'Qwen3Model', 32, 2, 4, 2, 64, 1003, 1000000.0, 1e-6,
                     {"attention_bias": False, "use_sliding_window": False, "bos_token_id": None,
                      "eos_token_id": 1000}, 'qwen_small', 'BF16', 1, False, head_dim=16,
                     explicit_head_dim=True, eos_text='', qk_norm=True),
    ]
    for m in models:
        exp = {"model": m['name'], "texts": TEXTS, "instruction": INSTRUCTION, "prefix_template": PREFIX,
               "eos_text": m['eos_text'], "cases": cases_for(m)}
        data = json.dumps(exp, separators=(',', ':')).encode()
        with open(os.path.join(m['dir'], 'expected.json.gz'), 'wb') as raw:
            with gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=9, mtime=0, filename='') as f:
                f.write(data)
        sz = sum(os.path.getsize(os.path.join(m['dir'], f)) for f in os.listdir(m['dir']))
        print('%s: %d cases, %d bytes' % (m['name'], len(exp['cases']), sz))


main()
