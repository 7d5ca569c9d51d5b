#!/usr/bin/python3
"""Reference for tests/unit/test_train_heads.c: the trainable pooling heads of engine/train (pooler_train.h)
and the InfoNCE loss, written independently in torch (float64) and differentiated by torch autograd.

usage: /usr/bin/python3 ref_train_heads.py OUTDIR
Inputs and parameters are rounded to float32 (what the C side reads), the forward and backward run in float64,
and everything is stored as F32. Writes OUTDIR/<kind>.safetensors for kind in mean-linear, last-linear,
self-attention, latent, each holding
  config  F32 [d, n_latents, heads, B, k, in_batch, temperature, 0]
  s0, len F32 [n_seq]   (sequences: B queries, B positives, B*k hard negatives, in that order)
  x.<i>   F32 [len_i, d] token states
  param.<name>, grad.<name>  F32 the head's tensors and d(loss)/d(tensor)
  loss    F32 [1]
"""
import json, math, os, struct, sys
import torch

torch.set_default_dtype(torch.float64)


def save(path, tensors):
    hdr, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().numpy().astype("<f4").tobytes()
        hdr[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def ln(x, g, b):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), g, b, eps=1e-5)


def head_params(kind, d, r, g):
    def U(*shape, fan):
        return ((torch.rand(*shape, generator=g) * 2 - 1) / math.sqrt(fan)).float().double().requires_grad_()

    def N(*shape):
        return torch.randn(*shape, generator=g).float().double().requires_grad_()

    def leaf(t):
        return t.detach().float().double().requires_grad_()

    if kind in ("mean-linear", "last-linear"):
        return {"linear.weight": U(d, d, fan=d), "linear.bias": U(d, fan=d)}
    if kind == "self-attention":
        return {"query": N(d), "to_k.weight": U(d, d, fan=d), "to_v.weight": U(d, d, fan=d),
                "to_out.weight": U(d, d, fan=d), "to_out.bias": U(d, fan=d)}
    ff = 4 * d
    # LayerNorm gains/biases random too, so that their gradients are tested against non-trivial values
    return {"latents": N(r, d), "ln_ctx.weight": leaf(1 + 0.1 * N(d)), "ln_ctx.bias": leaf(0.1 * N(d)),
            "to_kv.weight": U(2 * d, d, fan=d), "ln0.weight": leaf(1 + 0.1 * N(d)),
            "ln0.bias": leaf(0.1 * N(d)), "to_q.weight": U(d, d, fan=d), "to_out.weight": U(d, d, fan=d),
            "ln1.weight": leaf(1 + 0.1 * N(d)), "ln1.bias": leaf(0.1 * N(d)),
            "net0.weight": U(2 * ff, d, fan=d), "net0.bias": U(2 * ff, fan=d), "net2.weight": U(d, ff, fan=ff),
            "net2.bias": U(d, fan=ff)}


def head(kind, P, x, s0, heads):
    """x: (L, d) one sequence; rows [s0, L) pooled (last-linear: row L-1)."""
    d = x.shape[1]
    xp = x[s0:]
    if kind == "mean-linear":
        return P["linear.weight"] @ xp.mean(0) + P["linear.bias"]
    if kind == "last-linear":
        return P["linear.weight"] @ x[-1] + P["linear.bias"]
    if kind == "self-attention":
        K, V = xp @ P["to_k.weight"].T, xp @ P["to_v.weight"].T
        p = torch.softmax(K @ P["query"] / math.sqrt(d), 0)
        return P["to_out.weight"] @ (p @ V) + P["to_out.bias"]
    # NV-Embed latent attention (LatentAttentionModel): PreNorm cross-attention to the latents + GEGLU FF
    dh = d // heads
    ctx = ln(P["latents"], P["ln_ctx.weight"], P["ln_ctx.bias"])
    k, v = (ctx @ P["to_kv.weight"].T).chunk(2, dim=-1)
    q = ln(xp, P["ln0.weight"], P["ln0.bias"]) @ P["to_q.weight"].T
    qh, kh, vh = (t.reshape(t.shape[0], heads, dh).transpose(0, 1) for t in (q, k, v))
    att = torch.softmax(qh @ kh.transpose(1, 2) / math.sqrt(dh), -1)
    o = (att @ vh).transpose(0, 1).reshape(xp.shape[0], d)
    h1 = o @ P["to_out.weight"].T + xp
    u = ln(h1, P["ln1.weight"], P["ln1.bias"]) @ P["net0.weight"].T + P["net0.bias"]
    a, gate = u.chunk(2, dim=-1)
    h2 = (a * torch.nn.functional.gelu(gate)) @ P["net2.weight"].T + P["net2.bias"] + h1
    return h2.mean(0)


def infonce(q, p, n, in_batch, temperature):
    """q, p (B, d), n (B, k, d): candidates = the positives (all when in_batch, else its own) + its negatives."""
    q, p, n = (torch.nn.functional.normalize(t, dim=-1) for t in (q, p, n))
    B = q.shape[0]
    if in_batch:
        pos = q @ p.T
        target = torch.arange(B)
    else:
        pos = (q * p).sum(-1, keepdim=True)
        target = torch.zeros(B, dtype=torch.long)
    neg = torch.einsum("bd,bkd->bk", q, n)
    return torch.nn.functional.cross_entropy(torch.cat([pos, neg], 1) / temperature, target)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for ci, (kind, in_batch) in enumerate([("mean-linear", 1), ("last-linear", 0), ("self-attention", 1),
                                           ("latent", 1)]):
        g = torch.Generator().manual_seed(1234 + ci)
        d, r, heads, B, k, temperature = 8, 5, 2, 3, 2, 0.05
        P = head_params(kind, d, r, g)
        n_seq = B * (2 + k)
        lens = [int(torch.randint(1, 7, (1,), generator=g)) for _ in range(n_seq)]
        s0s = [int(torch.randint(0, L, (1,), generator=g)) if L > 1 else 0 for L in lens]
        xs = [(torch.randn(L, d, generator=g) * 2).float().double() for L in lens]
        e = torch.stack([head(kind, P, x, s, heads) for x, s in zip(xs, s0s)])
        loss = infonce(e[:B], e[B:2 * B], e[2 * B:].reshape(B, k, d), in_batch, temperature)
        loss.backward()
        t = {"config": torch.tensor([d, r, heads, B, k, in_batch, temperature, 0.0]),
             "s0": torch.tensor(s0s, dtype=torch.float64), "len": torch.tensor(lens, dtype=torch.float64),
             "loss": loss.detach().reshape(1)}
        for i, x in enumerate(xs):
            t["x.%d" % i] = x
        for name, w in P.items():
            t["param." + name] = w
            t["grad." + name] = w.grad
        save(os.path.join(out, kind + ".safetensors"), t)


main()
