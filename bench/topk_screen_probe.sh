#!/usr/bin/env bash
# topk_screen_probe.sh: the two measurements behind RESULTS.md's note on low-precision screening for the exact
# top-k search: the int8 / int16 kernels' speed against the fp32 FMA kernel (bench/topk_lowp_probe.c), and how
# many candidates a rigorous 8-bit screen would leave (bench/topk_screen_estimate.py, numpy).
set -eu
cd "$(dirname "$0")"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
gcc -O3 -o "$T/probe" topk_lowp_probe.c
"$T/probe"
/usr/bin/python3 topk_screen_estimate.py
