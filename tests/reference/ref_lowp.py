#!/usr/bin/python3
"""ref_lowp.py: writes tests/fixtures/lowp/cases.json, the numpy reference of
the CPU engine's int8 and bf16 matrix products (engine/nn/lowp.h), read by
tests/unit/test_lowp.c.

Each case has x (n, K), W (N, K) (a Linear weight), optional bias (N) and y0
(n, N) with beta 1, all float32, and numpy's results:
  int8: the scheme of lowp.h done here independently: per row of W,
        scale = max|w| / 63, qw = clip(rint(w / scale), -63, 63); per row of x,
        s = max|x| / 127, qx = clip(rint(x / s), -127, 127) (all float32; zero
        rows: scale 0, q 0); acc = qx . qw^T in int64 (no u8 offset: the C side
        must reproduce it through u = qx + 128 and comp); then
        y = ((float32(acc) * s) * scale) + bias + 1 * y0 in float32.
        The C code must match s, scale, acc and y bit for bit.
  bf16: x and W rounded to bf16 (round-to-nearest-even), product in float64,
        + bias + y0 in float64.
Shapes: n = 1 and 3, K not a multiple of 16/32/64, an all-zero weight row and
an all-zero x row, an outlier column in x, beta 1 with bias.
Regenerate: /usr/bin/python3 tests/reference/ref_lowp.py
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "lowp")
rng = np.random.RandomState(18)
f32 = np.float32


def bf16_round(a):
    """float32 -> float32 holding the bf16 value, round-to-nearest-even (NaN kept)."""
    b = np.asarray(a, dtype=f32).view(np.uint32).astype(np.uint64)
    r = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
    return r.astype(np.uint32).view(f32)


def quant_rows(a, qmax):
    """Per-row symmetric quantization: (scale float32 (rows,), q int64 (rows, cols))."""
    m = np.max(np.abs(a), axis=1).astype(f32)
    sc = (m / f32(qmax)).astype(f32)
    safe = np.where(sc == 0, f32(1), sc).astype(f32)
    q = np.clip(np.rint(a / safe[:, None]), -qmax, qmax).astype(np.int64)
    q[sc == 0] = 0
    return sc, q


def case(name, n, K, N, bias=False, beta=0, zero_w_row=None, zero_x_row=None, outlier_col=None):
    x = (rng.randn(n, K) * rng.uniform(0.1, 3)).astype(f32)
    w = (rng.randn(N, K) * rng.uniform(0.01, 0.2)).astype(f32)
    if zero_w_row is not None:
        w[zero_w_row] = 0
    if zero_x_row is not None:
        x[zero_x_row] = 0
    if outlier_col is not None:
        x[:, outlier_col] *= f32(60)
    b = (rng.randn(N) * 0.5).astype(f32) if bias else None
    y0 = (rng.randn(n, N)).astype(f32) if beta else None

    scale, qw = quant_rows(w, 63)
    s, qx = quant_rows(x, 127)
    acc = qx @ qw.T
    assert np.abs(acc).max() < 2**31
    y8 = (acc.astype(f32) * s[:, None]).astype(f32)
    y8 = (y8 * scale[None, :]).astype(f32)
    if b is not None:
        y8 = (y8 + b[None, :]).astype(f32)
    if y0 is not None:
        y8 = (y8 + f32(beta) * y0).astype(f32)

    yb = bf16_round(x).astype(np.float64) @ bf16_round(w).astype(np.float64).T
    if b is not None:
        yb = yb + b.astype(np.float64)[None, :]
    if y0 is not None:
        yb = yb + beta * y0.astype(np.float64)

    c = {"name": name, "n": n, "K": K, "N": N, "beta": beta, "x": short(x), "w": short(w), "s": short(s),
         "scale": short(scale), "acc": acc.ravel().astype(int).tolist(), "y_int8": short(y8),
         "y_bf16": yb.ravel().tolist()}
    if b is not None:
        c["bias"] = short(b)
    if y0 is not None:
        c["y0"] = short(y0)
    return c


def short(a):
    """float32 values as 9 significant digits, checked to read back (double, then float32) to the same bits."""
    a = np.asarray(a, dtype=f32).ravel()
    out = [float("%.9g" % v) for v in a]
    assert np.array_equal(np.array(out).astype(f32).view(np.uint32), a.view(np.uint32))
    return out


cases = [
    case("n1", 1, 37, 5),
    case("n3_zero_rows", 3, 100, 17, zero_w_row=4, zero_x_row=1),
    case("outlier_bias_beta1", 5, 67, 9, bias=True, beta=1, outlier_col=13),
    case("k200_bias", 7, 200, 20, bias=True),
    case("k384_beta1", 4, 384, 16, beta=1, outlier_col=0),
]
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump({"numpy": np.__version__, "cases": cases}, f)
print("wrote", os.path.join(OUT, "cases.json"))
