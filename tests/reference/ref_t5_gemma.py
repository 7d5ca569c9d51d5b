#!/usr/bin/python3
"""ref_t5_gemma.py: small random-weight models of the architectures of issue 15 (decoder side) in the Hugging Face
hub layouts, and their embeddings computed here in float64 torch, the math written out from the published
descriptions (no `transformers`): Gemma 3 text encoders (EmbeddingGemma), T5 encoders (GTR / sentence-T5), Llama 3.1
rope_scaling (llama3, dynamic), Qwen2's per-layer sliding window. Run with Debian's /usr/bin/python3 (python3-torch);
token ids come from Hugging Face `tokenizers` (npm) through ref_dec_tokenize.js.

Writes tests/fixtures/dec/:
  gemma3_tiny/    model_type gemma3_text, BF16, tensors without the "model." prefix (as EmbeddingGemma's folder),
                  3 layers with layer_types [sliding, sliding, full], sliding_window 5, head_dim 24 != 64/4,
                  num_key_value_heads 2, query_pre_attn_scalar 20, rope_local_base_freq 1e4 vs rope_theta 1e6 with
                  rope_scaling linear x2 (global layers only), attn_logit_softcapping 2, use_bidirectional_attention;
                  sentence-transformers modules: mean Pooling, Dense 64->96, Dense 96->64 (no bias, Identity),
                  Normalize; prompts from config_sentence_transformers.json
  gemma3_pattern/ the same family, causal (use_bidirectional_attention false), sliding_window_pattern 2 instead of
                  layer_types, hidden_activation gelu (exact), F32, "model." prefix, no softcapping
  t5_tiny/        model_type t5, feed_forward_proj relu (T5 v1.0), d_kv 12 (inner 48 != d_model 32), F32,
                  relative_attention_max_distance 20 (the log buckets are reached); mean Pooling, Dense 32->24
                  (no bias), Normalize (sentence-T5 / GTR layout)
  t5_gated/       gated-gelu (T5 v1.1: gelu_new(wi_0) * wi_1), BF16, 16 buckets
  llama31_tiny/   llama_bidirec (NVIDIA's bidirectional Llama 3.2 embedders) with rope_scaling {"rope_type":
                  "llama3", factor 8, low 1, high 4, original 64}: head_dim 16 puts its frequencies in all three bands
  llama_dynamic/  llama with rope_scaling {"type": "dynamic", factor 2}, max_position_embeddings 12
  qwen2_window/   qwen2 with use_sliding_window, sliding_window 4, max_window_layers 1 of 3 layers
Each has expected.json.gz in ref_dec_models.py's format (cases: ids, n_instr, per attention mask the first case's
hidden states, last / mean / mean_excl poolings); the two sentence-transformers folders also list "st_cases": the
folder's own pipeline (prompt, tokenizer, pooling, Dense, Normalize) for query and document texts.

Masks: causal: j <= i; sliding layers add i - j < window (Qwen2 / Mistral: causal attention only); Gemma 3 with
bidirectional attention: |i - j| < window on sliding layers (HF's bidirectional window overlay).

Usage: /usr/bin/python3 tests/reference/ref_t5_gemma.py
"""
import gzip
import json
import math
import os
import struct
import subprocess

import torch

torch.manual_seed(20251206)
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
ST_PROMPTS = {"query": "task: search result | query: ", "document": "title: none | text: "}


# ---- files ---------------------------------------------------------------------------------------------
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


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)


def as_stored(t, dtype):
    return (t.to(torch.bfloat16) if dtype == 'BF16' else t.to(torch.float32)).to(D)


def rnd(*shape, std=1.0):
    return torch.randn(*shape) * std


def new_folder(name, config, tensors, dtype, tok):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith('.safetensors') or f.startswith('expected.json'):
            os.remove(os.path.join(d, f))
    write_safetensors(os.path.join(d, 'model.safetensors'), tensors, dtype)
    write_json(os.path.join(d, 'config.json'), config)
    with open(os.path.join(TOK, tok + '.tokenizer.json')) as f:
        tj = f.read()
    with open(os.path.join(d, 'tokenizer.json'), 'w') as f:
        f.write(tj)
    return d


def st_modules(d, dense_sizes, prompts):
    """sentence-transformers files: mean Pooling, Dense modules (no bias, Identity), Normalize; returns the Dense
    weights (float64, as stored in F32)."""
    mods = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    write_json(os.path.join(d, '1_Pooling', 'config.json'),
               {"word_embedding_dimension": dense_sizes[0], "pooling_mode_cls_token": False,
                "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
                "pooling_mode_lasttoken": False, "include_prompt": True})
    dense = []
    for i in range(len(dense_sizes) - 1):
        sub = '%d_Dense' % (i + 2)
        fin, fout = dense_sizes[i], dense_sizes[i + 1]
        W = rnd(fout, fin, std=fin ** -0.5)
        write_json(os.path.join(d, sub, 'config.json'),
                   {"in_features": fin, "out_features": fout, "bias": False,
                    "activation_function": "torch.nn.modules.linear.Identity"})
        write_safetensors(os.path.join(d, sub, 'model.safetensors'), {"linear.weight": W}, 'F32')
        mods.append({"idx": i + 2, "name": str(i + 2), "path": sub, "type": "sentence_transformers.models.Dense"})
        dense.append(as_stored(W, 'F32'))
    n = len(dense_sizes) + 1
    mods.append({"idx": n - 1, "name": str(n - 1), "path": '%d_Normalize' % (n - 1),
                 "type": "sentence_transformers.models.Normalize"})
    os.makedirs(os.path.join(d, '%d_Normalize' % (n - 1)), exist_ok=True)
    write_json(os.path.join(d, 'modules.json'), mods)
    write_json(os.path.join(d, 'sentence_bert_config.json'), {"max_seq_length": 256, "do_lower_case": False})
    write_json(os.path.join(d, 'config_sentence_transformers.json'),
               {"prompts": prompts, "default_prompt_name": None, "similarity_fn_name": "cosine"})
    return dense


# ---- math ---------------------------------------------------------------------------------------------
def rmsnorm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def inv_freq(hd, theta, scaling=None, seq_len=None, max_pos=None):
    """Rotary inverse frequencies as the rope_scaling descriptions define them."""
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=D) / hd))
    if not scaling:
        return inv
    kind = scaling.get('rope_type', scaling.get('type'))
    f = scaling.get('factor', 1.0)
    if kind == 'linear':
        return inv / f
    if kind == 'dynamic':      # NTK: the base grows with the sequence length beyond max_position_embeddings
        if seq_len > max_pos:
            base = theta * ((f * seq_len / max_pos) - (f - 1)) ** (hd / (hd - 2))
            return 1.0 / (base ** (torch.arange(0, hd, 2, dtype=D) / hd))
        return inv
    if kind == 'llama3':
        lo, hi = scaling['low_freq_factor'], scaling['high_freq_factor']
        orig = scaling['original_max_position_embeddings']
        out = []
        for x in inv.tolist():
            wl = 2 * math.pi / x
            if wl < orig / hi:
                out.append(x)
            elif wl > orig / lo:
                out.append(x / f)
            else:
                s = (orig / wl - lo) / (hi - lo)
                out.append((1 - s) * x / f + s * x)
        return torch.tensor(out, dtype=D)
    raise ValueError(kind)


def rope(x, inv):
    """x: (L, heads, hd); HF rotate-half layout, positions 0..L-1."""
    L, _, hd = x.shape
    ang = torch.arange(L, dtype=D)[:, None] * inv[None, :]
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
    rot = torch.cat([-x[..., hd // 2:], x[..., :hd // 2]], -1)
    return x * cos + rot * sin


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x.pow(3))))


def gelu_erf(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def attend(q, k, v, scale, allowed, softcap=None, bias=None):
    """q (L, nh, hd), k/v (L, kv, hd) -> (L, nh * hd)."""
    rep = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    s = torch.einsum('ihd,jhd->hij', q, k) * scale
    if softcap:
        s = softcap * torch.tanh(s / softcap)
    if bias is not None:
        s = s + bias
    s = s.masked_fill(~allowed[None], float('-inf'))
    return torch.einsum('hij,jhd->ihd', torch.softmax(s, -1), v).reshape(q.shape[0], -1)


def mask(L, causal, window=None, both=False):
    i = torch.arange(L)[:, None]
    j = torch.arange(L)[None, :]
    allowed = torch.ones(L, L, dtype=torch.bool)
    if causal:
        allowed &= j <= i
    if window:
        allowed &= (i - j) < window
        if both and not causal:
            allowed &= (j - i) < window
    return allowed


# ---- Gemma 3 ------------------------------------------------------------------------------------------
def gemma_weights(c, prefix):
    h, nh, kv, hd, inter = c['hidden_size'], c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], \
        c['intermediate_size']
    w = {prefix + 'embed_tokens.weight': rnd(c['vocab_size'], h, std=0.3)}
    for i in range(c['num_hidden_layers']):
        p = '%slayers.%d.' % (prefix, i)
        for n in ('input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm',
                  'post_feedforward_layernorm'):
            w[p + n + '.weight'] = rnd(h, std=0.2)         # Gemma stores w; the norm scales by (1 + w)
        w[p + 'self_attn.q_proj.weight'] = rnd(nh * hd, h, std=h ** -0.5)
        w[p + 'self_attn.k_proj.weight'] = rnd(kv * hd, h, std=h ** -0.5)
        w[p + 'self_attn.v_proj.weight'] = rnd(kv * hd, h, std=h ** -0.5)
        w[p + 'self_attn.o_proj.weight'] = rnd(h, nh * hd, std=(nh * hd) ** -0.5)
        w[p + 'self_attn.q_norm.weight'] = rnd(hd, std=0.2)
        w[p + 'self_attn.k_norm.weight'] = rnd(hd, std=0.2)
        w[p + 'mlp.gate_proj.weight'] = rnd(inter, h, std=h ** -0.5)
        w[p + 'mlp.up_proj.weight'] = rnd(inter, h, std=h ** -0.5)
        w[p + 'mlp.down_proj.weight'] = rnd(h, inter, std=inter ** -0.5)
    w[prefix + 'norm.weight'] = rnd(h, std=0.2)
    return w


def gemma_layer_sliding(c):
    if c.get('layer_types'):
        return [t == 'sliding_attention' for t in c['layer_types']]
    pat = c.get('sliding_window_pattern', 6)
    return [bool((i + 1) % pat) for i in range(c['num_hidden_layers'])]


def gemma_forward(m, ids, causal):
    c, w, prefix = m['cfg'], m['w'], m['prefix']
    h, nh, kv, hd, eps = c['hidden_size'], c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], \
        c['rms_norm_eps']
    L = len(ids)
    scale = float(torch.tensor(math.sqrt(h), dtype=torch.float32))   # a float32 buffer in the reference model
    x = w[prefix + 'embed_tokens.weight'][ids] * scale
    act = gelu_tanh if c.get('hidden_activation', 'gelu_pytorch_tanh') == 'gelu_pytorch_tanh' else gelu_erf
    sliding = gemma_layer_sliding(c)

    def norm(t, name):
        return rmsnorm(t, 1.0 + w[name], eps)
    for li in range(c['num_hidden_layers']):
        p = '%slayers.%d.' % (prefix, li)
        t = norm(x, p + 'input_layernorm.weight')
        q = (t @ w[p + 'self_attn.q_proj.weight'].T).view(L, nh, hd)
        k = (t @ w[p + 'self_attn.k_proj.weight'].T).view(L, kv, hd)
        v = (t @ w[p + 'self_attn.v_proj.weight'].T).view(L, kv, hd)
        q = norm(q, p + 'self_attn.q_norm.weight')
        k = norm(k, p + 'self_attn.k_norm.weight')
        if sliding[li]:
            inv = inv_freq(hd, c['rope_local_base_freq'])
        else:
            inv = inv_freq(hd, c['rope_theta'], c.get('rope_scaling'))
        q, k = rope(q, inv), rope(k, inv)
        allowed = mask(L, causal, c['sliding_window'] if sliding[li] else None, both=True)
        o = attend(q, k, v, c['query_pre_attn_scalar'] ** -0.5, allowed, c.get('attn_logit_softcapping'))
        x = x + norm(o @ w[p + 'self_attn.o_proj.weight'].T, p + 'post_attention_layernorm.weight')
        t = norm(x, p + 'pre_feedforward_layernorm.weight')
        g = act(t @ w[p + 'mlp.gate_proj.weight'].T) * (t @ w[p + 'mlp.up_proj.weight'].T)
        x = x + norm(g @ w[p + 'mlp.down_proj.weight'].T, p + 'post_feedforward_layernorm.weight')
    return norm(x, prefix + 'norm.weight')


def gemma(name, extra, dtype, prefix, st):
    c = {"architectures": ["Gemma3TextModel"], "model_type": "gemma3_text", "hidden_size": 64,
         "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 24,
         "intermediate_size": 96, "vocab_size": 1000, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
         "rope_local_base_freq": 10000.0, "query_pre_attn_scalar": 20, "sliding_window": 5,
         "max_position_embeddings": 2048, "hidden_activation": "gelu_pytorch_tanh", "attention_bias": False,
         "attn_logit_softcapping": None, "final_logit_softcapping": None, "rope_scaling": None,
         "use_bidirectional_attention": True, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
         "torch_dtype": "bfloat16" if dtype == 'BF16' else "float32"}
    c.update(extra)
    w = gemma_weights(c, prefix)
    d = new_folder(name, c, w, dtype, 'mistral_small')
    m = {"name": name, "cfg": c, "w": {k: as_stored(v, dtype) for k, v in w.items()}, "prefix": prefix, "dir": d,
         "dtype": dtype, "forward": gemma_forward, "eos_text": ''}
    if st:
        m['dense'] = st_modules(d, [64, 96, 64], ST_PROMPTS)
    return m


# ---- T5 -----------------------------------------------------------------------------------------------
def t5_bucket(rel, n_buckets, max_distance):
    """T5's bidirectional relative-position bucket of rel = key - query (float32 log, as the reference model)."""
    nb = n_buckets // 2
    ret = nb if rel > 0 else 0
    n = abs(rel)
    max_exact = nb // 2
    if n < max_exact:
        return ret + n
    v = torch.log(torch.tensor(float(n), dtype=torch.float32) / max_exact) / math.log(max_distance / max_exact) * \
        (nb - max_exact)
    return ret + min(max_exact + int(v.to(torch.int64)), nb - 1)


def t5_weights(c, gated):
    h, nh, dk, ff = c['d_model'], c['num_heads'], c['d_kv'], c['d_ff']
    inner = nh * dk
    w = {'shared.weight': rnd(c['vocab_size'], h, std=1.0)}
    w['encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'] = \
        rnd(c['relative_attention_num_buckets'], nh, std=1.0)
    for i in range(c['num_layers']):
        p = 'encoder.block.%d.layer.' % i
        w[p + '0.layer_norm.weight'] = 1 + rnd(h, std=0.2)
        w[p + '0.SelfAttention.q.weight'] = rnd(inner, h, std=(h * dk) ** -0.5)   # T5 folds the 1/sqrt(d) into q
        w[p + '0.SelfAttention.k.weight'] = rnd(inner, h, std=h ** -0.5)
        w[p + '0.SelfAttention.v.weight'] = rnd(inner, h, std=h ** -0.5)
        w[p + '0.SelfAttention.o.weight'] = rnd(h, inner, std=inner ** -0.5)
        w[p + '1.layer_norm.weight'] = 1 + rnd(h, std=0.2)
        if gated:
            w[p + '1.DenseReluDense.wi_0.weight'] = rnd(ff, h, std=h ** -0.5)
            w[p + '1.DenseReluDense.wi_1.weight'] = rnd(ff, h, std=h ** -0.5)
        else:
            w[p + '1.DenseReluDense.wi.weight'] = rnd(ff, h, std=h ** -0.5)
        w[p + '1.DenseReluDense.wo.weight'] = rnd(h, ff, std=ff ** -0.5)
    w['encoder.final_layer_norm.weight'] = 1 + rnd(h, std=0.2)
    # the decoder half of a T5Model checkpoint: present in full checkpoints, never read by an encoder
    w['decoder.final_layer_norm.weight'] = rnd(h)
    return w


def t5_forward(m, ids, causal):
    c, w = m['cfg'], m['w']
    h, nh, dk, eps = c['d_model'], c['num_heads'], c['d_kv'], c['layer_norm_epsilon']
    L = len(ids)
    gated = c['feed_forward_proj'].startswith('gated-')
    x = w['shared.weight'][ids]
    rb = w['encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight']
    buckets = torch.tensor([[t5_bucket(j - i, c['relative_attention_num_buckets'],
                                       c['relative_attention_max_distance']) for j in range(L)] for i in range(L)])
    bias = rb[buckets].permute(2, 0, 1)          # (heads, L, L)
    allowed = mask(L, causal)
    for li in range(c['num_layers']):
        p = 'encoder.block.%d.layer.' % li
        t = rmsnorm(x, w[p + '0.layer_norm.weight'], eps)
        q = (t @ w[p + '0.SelfAttention.q.weight'].T).view(L, nh, dk)
        k = (t @ w[p + '0.SelfAttention.k.weight'].T).view(L, nh, dk)
        v = (t @ w[p + '0.SelfAttention.v.weight'].T).view(L, nh, dk)
        x = x + attend(q, k, v, 1.0, allowed, bias=bias) @ w[p + '0.SelfAttention.o.weight'].T
        t = rmsnorm(x, w[p + '1.layer_norm.weight'], eps)
        if gated:
            g = gelu_tanh(t @ w[p + '1.DenseReluDense.wi_0.weight'].T) * (t @ w[p + '1.DenseReluDense.wi_1.weight'].T)
        else:
            g = torch.relu(t @ w[p + '1.DenseReluDense.wi.weight'].T)
        x = x + g @ w[p + '1.DenseReluDense.wo.weight'].T
    return rmsnorm(x, w['encoder.final_layer_norm.weight'], eps)


def t5(name, extra, dtype, st):
    c = {"architectures": ["T5EncoderModel"], "model_type": "t5", "d_model": 32, "d_kv": 12, "d_ff": 64,
         "num_layers": 2, "num_decoder_layers": 2, "num_heads": 4, "relative_attention_num_buckets": 32,
         "relative_attention_max_distance": 20, "layer_norm_epsilon": 1e-6, "feed_forward_proj": "relu",
         "vocab_size": 1000, "pad_token_id": 0, "eos_token_id": 1, "is_encoder_decoder": True,
         "n_positions": 512, "torch_dtype": "bfloat16" if dtype == 'BF16' else "float32"}
    c.update(extra)
    w = t5_weights(c, c['feed_forward_proj'].startswith('gated-'))
    d = new_folder(name, c, w, dtype, 'mistral_small')
    m = {"name": name, "cfg": c, "w": {k: as_stored(v, dtype) for k, v in w.items()}, "dir": d, "dtype": dtype,
         "forward": t5_forward, "eos_text": ''}
    if st:
        m['dense'] = st_modules(d, [32, 24], ST_PROMPTS)
    return m


# ---- Llama rope_scaling, Qwen2 windows ----------------------------------------------------------------------
def dec_weights(c, biases):
    h, nh, kv, hd, inter = c['hidden_size'], c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], \
        c['intermediate_size']
    w = {'model.embed_tokens.weight': rnd(c['vocab_size'], h)}
    for i in range(c['num_hidden_layers']):
        p = 'model.layers.%d.' % i
        w[p + 'input_layernorm.weight'] = 1 + rnd(h, std=0.2)
        w[p + 'self_attn.q_proj.weight'] = rnd(nh * hd, h, std=h ** -0.5)
        w[p + 'self_attn.k_proj.weight'] = rnd(kv * hd, h, std=h ** -0.5)
        w[p + 'self_attn.v_proj.weight'] = rnd(kv * hd, h, std=h ** -0.5)
        if biases:
            for n, o in (('q', nh * hd), ('k', kv * hd), ('v', kv * hd)):
                w[p + 'self_attn.%s_proj.bias' % n] = rnd(o, std=0.3)
        w[p + 'self_attn.o_proj.weight'] = rnd(h, nh * hd, std=(nh * hd) ** -0.5)
        w[p + 'post_attention_layernorm.weight'] = 1 + rnd(h, std=0.2)
        w[p + 'mlp.gate_proj.weight'] = rnd(inter, h, std=h ** -0.5)
        w[p + 'mlp.up_proj.weight'] = rnd(inter, h, std=h ** -0.5)
        w[p + 'mlp.down_proj.weight'] = rnd(h, inter, std=inter ** -0.5)
    w['model.norm.weight'] = 1 + rnd(h, std=0.2)
    return w


def dec_forward(m, ids, causal):
    c, w = m['cfg'], m['w']
    L = len(ids)
    nh, kv, hd, eps = c['num_attention_heads'], c['num_key_value_heads'], c['head_dim'], c['rms_norm_eps']
    x = w['model.embed_tokens.weight'][ids]
    inv = inv_freq(hd, c['rope_theta'], c.get('rope_scaling'), L, c['max_position_embeddings'])
    for li in range(c['num_hidden_layers']):
        p = 'model.layers.%d.' % li
        window = None
        if c.get('use_sliding_window') and li >= c.get('max_window_layers', 28):
            window = c['sliding_window']       # Qwen2: layers from max_window_layers on slide (causal only)
        t = rmsnorm(x, w[p + 'input_layernorm.weight'], eps)

        def proj(n, t=t, p=p):
            y = t @ w[p + 'self_attn.%s_proj.weight' % n].T
            b = w.get(p + 'self_attn.%s_proj.bias' % n)
            return y + b if b is not None else y
        q, k, v = proj('q').view(L, nh, hd), proj('k').view(L, kv, hd), proj('v').view(L, kv, hd)
        q, k = rope(q, inv), rope(k, inv)
        o = attend(q, k, v, hd ** -0.5, mask(L, causal, window if causal else None))
        x = x + o @ w[p + 'self_attn.o_proj.weight'].T
        t = rmsnorm(x, w[p + 'post_attention_layernorm.weight'], eps)
        g = torch.nn.functional.silu(t @ w[p + 'mlp.gate_proj.weight'].T) * (t @ w[p + 'mlp.up_proj.weight'].T)
        x = x + g @ w[p + 'mlp.down_proj.weight'].T
    return rmsnorm(x, w['model.norm.weight'], eps)


def decoder(name, model_type, extra, dtype, biases, tok, eos_text):
    c = {"architectures": ["Qwen2Model" if model_type == 'qwen2' else "LlamaModel"], "model_type": model_type,
         "hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2,
         "intermediate_size": 64, "vocab_size": 1000 if tok == 'mistral_small' else 1003, "rms_norm_eps": 1e-5,
         "rope_theta": 500000.0, "hidden_act": "silu", "max_position_embeddings": 4096,
         "torch_dtype": "bfloat16" if dtype == 'BF16' else "float32"}
    c.update(extra)
    explicit = 'head_dim' in c
    c.setdefault('head_dim', c['hidden_size'] // c['num_attention_heads'])
    w = dec_weights(c, biases)
    cfg_out = {k: v for k, v in c.items() if k != 'head_dim' or explicit}
    d = new_folder(name, cfg_out, w, dtype, tok)
    return {"name": name, "cfg": c, "w": {k: as_stored(v, dtype) for k, v in w.items()}, "dir": d, "dtype": dtype,
            "forward": dec_forward, "eos_text": eos_text}


# ---- cases ---------------------------------------------------------------------------------------------
def tokenize(items):
    r = subprocess.run(['node', os.path.join(SRC, 'tests', 'reference', 'ref_dec_tokenize.js')],
                       input=json.dumps(items).encode(), capture_output=True, check=True)
    return json.loads(r.stdout)


def vec(t):
    return [float('%.9g' % x) for x in t.tolist()]


def masked_mean(X, start):
    return X[(start if start < X.shape[0] else 0):].mean(0)


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
            H = m['forward'](m, torch.tensor(seq), attn == 'causal')
            o = case['outputs'].setdefault(attn, {})
            if ti == 1 and role == 'document':
                o['hidden'] = [vec(r) for r in H]
            o['last'] = vec(H[-1])
            o['mean'] = vec(masked_mean(H, 0))
            o['mean_excl'] = vec(masked_mean(H, n_instr))
        out.append(case)
    return out


def st_cases(m):
    """The sentence-transformers pipeline of the folder: prompt + text, tokenizer with special tokens, the model's
    default attention, mean over all tokens (include_prompt true), the Dense modules, L2 normalisation."""
    tokpath = os.path.join(m['dir'], 'tokenizer.json')
    causal = not m['cfg'].get('use_bidirectional_attention', True) if m['cfg']['model_type'] == 'gemma3_text' \
        else False
    out = []
    for role in ('query', 'document'):
        ids = tokenize([{"tok": tokpath, "text": ST_PROMPTS[role] + t, "special": True} for t in TEXTS])
        vs = []
        for seq in ids:
            e = m['forward'](m, torch.tensor(seq), causal).mean(0)
            for W in m['dense']:
                e = e @ W.T
            vs.append(vec(e / e.norm()))
        out.append({"role": role, "ids": ids, "vectors": vs})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    models = [
        gemma('gemma3_tiny', {"layer_types": ["sliding_attention", "sliding_attention", "full_attention"],
                              "rope_scaling": {"rope_type": "linear", "factor": 2.0},
                              "attn_logit_softcapping": 2.0}, 'BF16', '', True),
        gemma('gemma3_pattern', {"sliding_window_pattern": 2, "use_bidirectional_attention": False,
                                 "hidden_activation": "gelu", "num_hidden_layers": 4, "sliding_window": 7},
              'F32', 'model.', False),
        t5('t5_tiny', {}, 'F32', True),
        t5('t5_gated', {"feed_forward_proj": "gated-gelu", "relative_attention_num_buckets": 16,
                        "relative_attention_max_distance": 128, "d_kv": 8, "num_heads": 4, "d_model": 40}, 'BF16',
           False),
        decoder('llama31_tiny', 'llama_bidirec', {"head_dim": 16, "pooling": "avg", "rope_scaling": {
            "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 64}}, 'F32', False, 'mistral_small', '</s>'),
        decoder('llama_dynamic', 'llama', {"rope_scaling": {"type": "dynamic", "factor": 2.0},
                                           "max_position_embeddings": 12}, 'F32', False, 'mistral_small', '</s>'),
        decoder('qwen2_window', 'qwen2', {"use_sliding_window": True, "sliding_window": 4, "max_window_layers": 1,
                                          "rope_theta": 1000000.0}, 'BF16', True, 'qwen_small', ''),
    ]
    for m in models:
        exp = {"model": m['name'], "texts": TEXTS, "instruction": INSTRUCTION, "prefix_template": PREFIX,
               "eos_text": m['eos_text'], "cases": cases_for(m)}
        if 'dense' in m:
            exp['st_cases'] = st_cases(m)
        data = json.dumps(exp, separators=(',', ':')).encode()
        with open(os.path.join(m['dir'], 'expected.json.gz'), 'wb') as raw:
            with gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=9, mtime=0, filename='') as f:
                f.write(data)
        sz = 0
        for root, _, files in os.walk(m['dir']):
            sz += sum(os.path.getsize(os.path.join(root, f)) for f in files)
        print('%s: %d cases, %d bytes' % (m['name'], len(exp['cases']), sz))


main()
