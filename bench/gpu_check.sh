#!/usr/bin/env bash
# gpu_check.sh [--dry] [OUTDIR]: the one GPU check of issue #12, under 8 minutes on a bare GPU machine.
#
#   1. installs the build dependencies when missing (scripts/setup.sh's list; only as root, not in --dry)
#   2. configures with -DCMTEB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 (GPU_CHECK_ARCH) and builds
#   3. builds bench/gpu_bench.cu (cuBLAS bf16 GEMM peak) and bench/gpu_models.c (random-weight model folders)
#   4. ctest -L gpu
#   5. parity: every fixture model folder, CPU fp32 vs GPU fp32 (max relative difference, 1e-4 required) and
#      GPU bf16 (lowest cosine, 0.999 required)
#   6. tokens/s and MFU (model FLOPs/s over the measured cuBLAS bf16 peak; FLOPs: bench/gpu_models.c):
#      bge-small shape on STS sentences, BERT-base shape on 512-token passages (SciFact corpus, else
#      synthetic), 7B NV-Embed shape on 300-token passages; load time measured apart and subtracted
#   7. STSBenchmark (DemoSTS without $CMTEB_SHARED/data) main score, CPU fp32 vs GPU bf16, bge-small-shaped
#      random model: within 0.2 points
# Writes OUTDIR/gpu_check.md (a markdown table) and OUTDIR/gpu_check.log; OUTDIR: the argument, else $OUT,
# else build-gpucheck/out. Every step runs under `timeout`, the limits summing to under 8 minutes.
# --dry: what can run without a GPU (here): the CUDA build (compile only), the tools, the models, the CPU
# side of every measurement and check; GPU steps are reported as skipped.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DRY=0
if [ "${1:-}" = --dry ]; then DRY=1; shift; fi
OUTD=${1:-${OUT:-$SRC/build-gpucheck/out}}
BUILD=${GPU_CHECK_BUILD:-$SRC/build-gpucheck}
WORK=${GPU_CHECK_WORK:-${TMPDIR:-/tmp}/cmteb-gpucheck}
ARCH=${GPU_CHECK_ARCH:-90}
SHARED=${CMTEB_SHARED:-$SRC/../shared}
NPROC=$(nproc)
mkdir -p "$OUTD" "$WORK" || exit 1
LOG="$OUTD/gpu_check.log"
MD="$OUTD/gpu_check.md"
: > "$LOG"
START=$(date +%s)
DEADLINE=$((START + ${GPU_CHECK_SECONDS:-465}))   # 7m45s: the whole script ends inside 8 minutes
ROWS=()
log() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$LOG" >&2; }
row() { ROWS+=("| $1 | $2 | $3 |"); log "RESULT $1: $2 ($3)"; }
# run LIMIT cmd...: the command under timeout, never past the deadline; output to the log
run() {
  local lim=$1; shift
  local left=$((DEADLINE - $(date +%s) - 5))
  [ "$left" -lt "$lim" ] && lim=$left
  if [ "$lim" -le 0 ]; then log "no time left for: $*"; return 124; fi
  log "+ (limit ${lim}s) $*"
  timeout -k 5 "$lim" "$@" >> "$LOG" 2>&1
}
finish() {
  {
    echo "# bench/gpu_check.sh $( [ $DRY = 1 ] && echo '(dry run: no GPU steps)')"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(uname -n), $NPROC CPU cores; GPU: ${GPU_NAME:-none}; $(( $(date +%s) - START )) s"
    echo
    echo "| check | result | detail |"
    echo "|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
  } > "$MD"
  cat "$MD"
}
trap finish EXIT

# ---- 1. dependencies ----------------------------------------------------------------------------------------
pkgs=(build-essential cmake pkg-config libopenblas-dev libcjson-dev libcsv-dev libfaiss-dev zlib1g-dev
      libcurl4-openssl-dev libssl-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then row deps ok "all build packages present"
elif [ $DRY = 1 ] || [ "$(id -u)" != 0 ]; then row deps "missing" "${missing[*]} (not root or --dry: not installed)"
elif run 60 bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing[*]}"
then row deps installed "${missing[*]}"
else row deps FAILED "apt-get install ${missing[*]} (see log)"; fi

# ---- 2. build with CUDA ----------------------------------------------------------------------------------------
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
built=0
if run 40 cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMTEB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
     -DCMAKE_CUDA_COMPILER="$NVCC" && run 260 cmake --build "$BUILD" -j"$NPROC"; then
  built=1; row build ok "CUDA on, sm_$ARCH, $(( $(date +%s) - START )) s since start"
else row build FAILED "see $LOG"; fi
BIN="$BUILD/cmteb"

# ---- 3. bench tools -------------------------------------------------------------------------------------------
run 60 "$NVCC" -O2 -arch=sm_"$ARCH" -o "$WORK/gpu_bench" "$SRC/bench/gpu_bench.cu" -lcublas \
  && row gpu_bench built "nvcc sm_$ARCH" || row gpu_bench FAILED "nvcc (see log)"
GM="$WORK/gpu_models"
run 30 cc -O2 -std=c11 -o "$GM" "$SRC/bench/gpu_models.c" -lm && row gpu_models built "cc" || row gpu_models FAILED "cc"

# GPUs: what cmteb sees
GPU_NAME=""
if [ $built = 1 ]; then
  info=$(timeout -k 5 30 "$BIN" info 2>&1); echo "$info" >> "$LOG"
  GPU_NAME=$(grep -m1 '^gpu cuda:0' <<<"$info" | sed 's/^gpu cuda:0 *//; s/,.*//')
  row "cmteb info" "$(grep -cE '^gpu cuda:' <<<"$info") GPU(s)" "$(grep -E '^gpus? ' <<<"$info" | head -2 | tr '\n' ' ')"
fi
HAVE_GPU=0
[ $DRY = 0 ] && [ -n "$GPU_NAME" ] && HAVE_GPU=1

# ---- 4. gpu tests -----------------------------------------------------------------------------------------------
if [ $built = 1 ]; then
  if run 100 ctest --test-dir "$BUILD" -L gpu --output-on-failure; then
    row "ctest -L gpu" ok "$(grep -E 'tests passed' "$LOG" | tail -1)"
  else row "ctest -L gpu" FAILED "$(grep -E 'tests passed|tests failed' "$LOG" | tail -1)"; fi
fi

# ---- inputs -----------------------------------------------------------------------------------------------------
sts_src="$SHARED/data/mteb/stsbenchmark-sts/test.jsonl.gz"
if [ -f "$sts_src" ]; then sts_task=STSBenchmark; sts_data="$SHARED/data"; sts_cat() { zcat "$sts_src"; }
else sts_task=DemoSTS; sts_data="$SRC/datasets/demo"; sts_cat() { cat "$SRC/datasets/demo/sts/test.jsonl"; }; fi
sts_cat | grep -oE '"sentence[12]": "[^"]*"' | sed -E 's/^"sentence[12]": "//; s/"$//' > "$WORK/sts1.txt"
: > "$WORK/sts.txt"; for _ in $(seq 20); do cat "$WORK/sts1.txt" >> "$WORK/sts.txt"; done
scifact="$SHARED/data/mteb/scifact/corpus.jsonl"
if [ -f "$scifact" ]; then
  grep -oE '"text": "[^"]{1500,}' "$scifact" | sed -E 's/^"text": "//' | head -4000 > "$WORK/pass_src.txt"; psrc="SciFact corpus"
else
  psrc="synthetic (60 STS sentences joined per passage)"
  awk '{ s[NR] = $0 } END { srand(42); for (p = 0; p < 4000; p++) { line = "";
         for (k = 0; k < 60; k++) line = line s[1 + int(rand() * NR)] " "; print line } }' "$WORK/sts1.txt" \
    > "$WORK/pass_src.txt"
fi
head -n 4000 "$WORK/pass_src.txt" > "$WORK/pass512.txt"
head -n 1500 "$WORK/pass_src.txt" > "$WORK/pass300.txt"
head -n 8 "$WORK/sts1.txt" > "$WORK/tiny.txt"
log "inputs: $(wc -l < "$WORK/sts.txt") STS sentences ($sts_task x20), passages from $psrc"

# ---- models -----------------------------------------------------------------------------------------------------
mk() { mkdir -p "$WORK/$1" && run "$3" "$GM" write "$1" "$WORK/$1" "$2"; }
mk bge-small "$SRC/tests/fixtures/hf/bert-tiny/tokenizer.json" 30 || row "model bge-small" FAILED "gpu_models write"
mk bert-base "$SRC/tests/fixtures/hf/bert-tiny/tokenizer.json" 40 || row "model bert-base" FAILED "gpu_models write"
if [ $HAVE_GPU = 1 ]; then
  if mk nvembed-7b "$SRC/tests/fixtures/dec/nvembed_tiny/tokenizer.json" 120; then
    row "model nvembed-7b" written "$(du -sh "$WORK/nvembed-7b" | cut -f1) of random BF16 weights"
  else row "model nvembed-7b" FAILED "gpu_models write (disk space or time)"; rm -rf "$WORK/nvembed-7b"; fi
else row "model nvembed-7b" skipped "14 GB of weights: written on the GPU machine only"; fi

# ---- 5. parity ----------------------------------------------------------------------------------------------------
parity() {   # parity DIR: CPU fp32 vs GPU fp32 and bf16 over the STS sentences
  local d=$1 n; n=$(basename "$d")
  [ $built = 1 ] || return
  run 30 "$BIN" embed --model "hf:$d" --input "$WORK/sts1.txt" --output "$WORK/p_$n.cpu.npy" --device cpu --quiet \
    || { row "parity $n" FAILED "cpu embed"; return; }
  if [ $HAVE_GPU = 0 ]; then row "parity $n" "cpu only" "$(wc -l < "$WORK/sts1.txt") texts embedded; GPU skipped"; return; fi
  local r32 r16
  run 30 "$BIN" embed --model "hf:$d" --input "$WORK/sts1.txt" --output "$WORK/p_$n.f32.npy" --device cuda:0 \
    --dtype fp32 --quiet && run 30 "$BIN" embed --model "hf:$d" --input "$WORK/sts1.txt" \
    --output "$WORK/p_$n.b16.npy" --device cuda:0 --dtype bf16 --quiet || { row "parity $n" FAILED "gpu embed"; return; }
  r32=$("$GM" cmp "$WORK/p_$n.cpu.npy" "$WORK/p_$n.f32.npy"); r16=$("$GM" cmp "$WORK/p_$n.cpu.npy" "$WORK/p_$n.b16.npy")
  if awk -v a="$(cut -d' ' -f2 <<<"$r32")" -v c="$(cut -d' ' -f4 <<<"$r16")" 'BEGIN {exit !(a <= 1e-4 && c >= 0.999)}'
  then row "parity $n" ok "fp32 ${r32}; bf16 ${r16}"; else row "parity $n" FAILED "fp32 ${r32}; bf16 ${r16}"; fi
}
for d in "$SRC"/tests/fixtures/hf/*/ "$SRC"/tests/fixtures/dec/*_tiny/; do
  [ -f "$d/config.json" ] && [ -n "$(ls "$d"/*.safetensors 2>/dev/null)" ] && parity "${d%/}"
done

# ---- 6. throughput and MFU -----------------------------------------------------------------------------------------
PEAK=""
if [ $HAVE_GPU = 1 ] && run 40 "$WORK/gpu_bench" 20; then
  PEAK=$(grep -E '^peak_tflops' "$LOG" | tail -1 | cut -d' ' -f2)
  row "cuBLAS bf16 GEMM peak" "$PEAK TFLOP/s" "$(grep -E '^gemm ' "$LOG" | tail -3 | tr '\n' ';')"
elif [ $HAVE_GPU = 1 ]; then row "cuBLAS bf16 GEMM peak" FAILED "gpu_bench"; fi
now() { date +%s.%N; }
# tput NAME DIR INPUT MAXLEN LIMIT
tput() {
  local name=$1 dir=$2 input=$3 maxlen=$4 lim=$5
  [ $built = 1 ] && [ -d "$dir" ] || return
  local tok; tok=$(timeout -k 5 60 "$BIN" tokenize --model "hf:$dir" --input "$input" --max-length "$maxlen" | cut -f1 | wc -w)
  local n; n=$(wc -l < "$input")
  local avg; avg=$(awk -v t="$tok" -v n="$n" 'BEGIN {printf "%.1f", t / n}')
  local fpt; fpt=$("$GM" flops "$(basename "$dir")" "$avg")
  if [ $HAVE_GPU = 0 ]; then
    row "tokens/s $name" "skipped (no GPU)" "$n texts, $tok tokens (avg $avg), $fpt FLOP/token"; return
  fi
  local t0 t1 t2
  t0=$(now); run 120 "$BIN" embed --model "hf:$dir" --input "$WORK/tiny.txt" --output "$WORK/t.npy" --max-length "$maxlen" --quiet \
    || { row "tokens/s $name" FAILED "load"; return; }
  t1=$(now); run "$lim" "$BIN" embed --model "hf:$dir" --input "$input" --output "$WORK/t.npy" --max-length "$maxlen" --quiet \
    || { row "tokens/s $name" FAILED "embed (timeout or error)"; return; }
  t2=$(now)
  awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v tok="$tok" -v f="$fpt" -v peak="${PEAK:-0}" -v n="$n" -v avg="$avg" \
    'BEGIN { run = (t2 - t1) - (t1 - t0); if (run <= 0) run = t2 - t1; tps = tok / run;
             mfu = peak > 0 ? 100 * tps * f / (peak * 1e12) : 0;
             printf "%.0f tok/s, MFU %.1f%%|%d texts, avg %s tokens, %.2f s (load %.2f s subtracted), %.3g FLOP/token\n",
                    tps, mfu, n, avg, run, t1 - t0, f }' > "$WORK/tput.txt"
  row "tokens/s $name" "$(cut -d'|' -f1 "$WORK/tput.txt")" "$(cut -d'|' -f2 "$WORK/tput.txt")"
}
tput "bge-small, STS sentences" "$WORK/bge-small" "$WORK/sts.txt" 512 60
tput "BERT-base, 512-token passages" "$WORK/bert-base" "$WORK/pass512.txt" 512 60
tput "NV-Embed 7B shape, 300-token passages" "$WORK/nvembed-7b" "$WORK/pass300.txt" 300 120

# ---- 7. STS score, CPU fp32 vs GPU bf16 ---------------------------------------------------------------------------------
score() {   # score DEVICE DTYPE -> main score x100
  local o="$WORK/sts_$1_$2"; rm -rf "$o"
  run 90 "$BIN" run --model "hf:$WORK/bge-small" --tasks "$sts_task" --data-dir "$sts_data" --output "$o" --no-cache \
    --quiet --device "$1" --dtype "$2" || return 1
  grep -ohE '"main_score": *[-0-9.eE]+' "$(find "$o" -name "$sts_task.json" | head -1)" | head -1 \
    | awk -F: '{printf "%.4f", 100 * $2}'
}
if [ $built = 1 ] && [ -d "$WORK/bge-small" ]; then
  cpu=$(score cpu fp32) || cpu=""
  if [ -z "$cpu" ]; then row "$sts_task CPU vs GPU" FAILED "cpu run"
  elif [ $HAVE_GPU = 0 ]; then row "$sts_task CPU vs GPU" "cpu $cpu" "GPU skipped"
  else
    gpu=$(score cuda bf16) || gpu=""
    if [ -n "$gpu" ] && awk -v a="$cpu" -v b="$gpu" 'BEGIN {d = a - b; exit !(d <= 0.2 && d >= -0.2)}'
    then row "$sts_task CPU fp32 vs GPU bf16" ok "cpu $cpu, gpu $gpu (bge-small shape, random weights; within 0.2)"
    else row "$sts_task CPU fp32 vs GPU bf16" FAILED "cpu $cpu, gpu ${gpu:-error}"; fi
  fi
fi
log "done"
