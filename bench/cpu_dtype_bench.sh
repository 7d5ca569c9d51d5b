#!/usr/bin/env bash
# cpu_dtype_bench.sh: tokens/s of the CPU engine with --dtype fp32, bf16 and int8 side by side in one run (issue
# #18): the bge-small-shaped (12 x 384) and BERT-base-shaped (12 x 768) random-weight encoders of
# bench/engine_bench.py on STS-B test sentences and SciFact passages, and the 1B-class BF16 decoder of
# bench/decoder_bench.py (last-token pooling, causal) on the same texts; plus the CPU's flags, the kernels each
# dtype ran on (the engine's load line) and the cosine of each dtype's vectors to fp32's.
# The dtypes run interleaved, REPS times each; the best time counts (the machine is shared).
# usage: bash bench/cpu_dtype_bench.sh BUILD_DIR [SHARED_DIR=../shared] [THREADS=2] [N_STS=1000] [N_SCI=100] [REPS=2]
# env: MODELS (default "bge-small-shape bert-base-shape dec-1b"), CMTEB_BENCH_DIR keeps the models between runs,
# DEC_STS / DEC_SCI (default 128 / 8) the decoder's texts.
set -eu
BUILD=${1:?usage: bench/cpu_dtype_bench.sh BUILD_DIR [SHARED_DIR] [THREADS] [N_STS] [N_SCI] [REPS]}
SHARED=${2:-../shared}; T=${3:-2}; NSTS=${4:-1000}; NSCI=${5:-100}; REPS=${6:-2}
B=$(cd "$BUILD" && pwd)/cmteb
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
W=${CMTEB_BENCH_DIR:-$(mktemp -d)}
[ -n "${CMTEB_BENCH_DIR:-}" ] || trap 'rm -rf "$W"' EXIT
MODELS=${MODELS:-bge-small-shape bert-base-shape dec-1b}
$PY "$HERE/engine_bench.py" prepare "$W" "$SHARED/data" "$NSTS" "$NSCI"
# the 1B decoder runs ~30x slower per token: its own folder, fewer texts (DEC_STS, DEC_SCI)
case " $MODELS " in *" dec-1b "*)
  mkdir -p "$W/dec"
  (cd "$HERE/.." && $PY bench/decoder_bench.py prepare "$W/dec" "$SHARED/data" "${DEC_STS:-128}" "${DEC_SCI:-8}" >/dev/null)
  ln -sfn "$W/dec/dec-1b" "$W/dec-1b" ;;
esac
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; threads $T"
echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|f16c|avx512.*|amx.*|avx_vnni)$' | tr '\n' ' ')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for dt in bf16 int8; do
  line=$("$B" embed --model "hf:$W/bge-small-shape" --dtype $dt --input /dev/null --output "$W/x.npy" 2>&1 \
         | grep -m1 "Linear layers in" || true)
  echo "$dt kernels: ${line#*: }"
done
echo
echo "| model | texts | tokens | fp32 tok/s | bf16 tok/s | int8 tok/s | bf16/fp32 | int8/fp32 | cos bf16 (min) | cos int8 (min) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for M in $MODELS; do
  extra=(); TD=$W; [ "$M" = dec-1b ] && { extra=(--pooling last --attention causal); TD=$W/dec; }
  for MIX in sts scifact; do
    NT=$(wc -l < "$TD/$MIX.txt")
    ntok=$("$B" tokenize --model "hf:$W/$M" --input "$TD/$MIX.txt" --json --max-length 512 \
           | $PY -c "import sys, json; print(sum(len(json.loads(l)['ids']) for l in sys.stdin))")
    declare -A best=([fp32]=0 [bf16]=0 [int8]=0)
    for r in $(seq "$REPS"); do
      for dt in fp32 bf16 int8; do
        s=$("$B" embed --model "hf:$W/$M" "${extra[@]}" --dtype $dt --input "$TD/$MIX.txt" --output "$W/$dt.npy" \
            --threads "$T" --max-length 512 2>&1 | sed -n 's/.*encode \([0-9.]*\) s.*/\1/p')
        best[$dt]=$($PY -c "print(max(${best[$dt]}, $ntok / $s))")
      done
    done
    $PY - "$W" "$M" "$MIX" "$NT" "$ntok" "${best[fp32]}" "${best[bf16]}" "${best[int8]}" <<'PY'
import sys, numpy as np
w, m, mix, nt, ntok, f, b, i = sys.argv[1:]
f, b, i = float(f), float(b), float(i)
def cmin(a, c):
    a = np.load(a).astype(np.float64); c = np.load(c).astype(np.float64)
    cs = (a * c).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(c, axis=1)
    return cs.min()
cb, ci = cmin(w + "/bf16.npy", w + "/fp32.npy"), cmin(w + "/int8.npy", w + "/fp32.npy")
print(f"| {m} | {mix} x{nt} | {ntok} | {f:.0f} | {b:.0f} | {i:.0f} | {b / f:.2f}x | {i / f:.2f}x | {cb:.5f} | {ci:.5f} |")
PY
    unset best
  done
done
