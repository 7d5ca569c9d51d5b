#!/bin/bash
# engine_bench.sh: tokens/s of the native BERT engine (cmteb embed --model hf:...) side by side with PyTorch
# (Debian python3-torch, the same BertModel math on the same random weights, same thread count; padded
# batches of 32 sorted by length) on STS-B test sentences and SciFact passages, for a bge-small-shaped
# (12 x 384) and a BERT-base-shaped (12 x 768) model, plus the fraction of this machine's sgemm peak.
# Usage: [MODELS="bge-small-shape bert-base-shape"] bash bench/engine_bench.sh BUILD_DIR [SHARED_DIR=../shared] [N_STS=2000] [N_SCI=200] [THREADS=2] [REPS=2]
set -eu
BUILD=${1:?usage: engine_bench.sh BUILD_DIR [SHARED_DIR] [N_STS] [N_SCI] [THREADS] [REPS]}
SHARED=${2:-../shared}; NSTS=${3:-2000}; NSCI=${4:-200}; T=${5:-2}; REPS=${6:-2}
B=$(cd "$BUILD" && pwd)/cmteb
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
$PY "$HERE/engine_bench.py" prepare "$W" "$SHARED/data" "$NSTS" "$NSCI"
PEAK=$(OPENBLAS_NUM_THREADS=$T $PY "$HERE/engine_bench.py" peak "$T")
echo "sgemm peak ($T threads, 2048^3): $PEAK GFLOP/s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| model | texts | tokens (avg) | PyTorch tok/s | cmteb tok/s | cmteb/PyTorch | cmteb GFLOP/s | % of sgemm peak (GFLOP/s) |"
echo "|---|---|---|---|---|---|---|---|"
for M in ${MODELS:-bge-small-shape bert-base-shape}; do
  for MIX in sts scifact; do
    "$B" tokenize --model "hf:$W/$M" --input "$W/$MIX.txt" --json --max-length 512 > "$W/ids.json"
    read -r NTOK FL < <($PY "$HERE/engine_bench.py" flops "$W/$M" "$W/ids.json")
    NT=$(wc -l < "$W/$MIX.txt")
    best_t=0; best_c=0
    for r in $(seq "$REPS"); do
      # PyTorch's best configuration here: intra-op 1 thread, OpenBLAS (Debian torch's BLAS) T threads; with
      # T intra-op threads too, the two thread pools oversubscribe the cores and it runs several times slower.
      read -r _ ts < <(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=$T $PY "$HERE/engine_bench.py" torch "$W/$M" "$W/ids.json" 1)
      cs=$("$B" embed --model "hf:$W/$M" --input "$W/$MIX.txt" --output "$W/o.npy" --threads "$T" --max-length 512 2>&1 \
           | sed -n 's/.*encode \([0-9.]*\) s.*/\1/p')
      best_t=$($PY -c "print(max($best_t, $NTOK / $ts))")
      best_c=$($PY -c "print(max($best_c, $NTOK / $cs))")
    done
    # the machine is shared: measure the sgemm peak again next to each row and keep the larger
    PEAK2=$(OPENBLAS_NUM_THREADS=$T $PY "$HERE/engine_bench.py" peak "$T")
    $PY - <<PYEOF
ntok, fl, nt, bt, bc, peak = $NTOK, $FL, $NT, $best_t, $best_c, max($PEAK, $PEAK2)
gf = bc * fl / ntok / 1e9
print(f"| $M | $MIX x{nt} | {ntok} ({ntok / nt:.0f}) | {bt:.0f} | {bc:.0f} | {bc / bt:.2f}x | {gf:.1f} | {100 * gf / peak:.0f}% of {peak:.0f} |")
PYEOF
  done
done
