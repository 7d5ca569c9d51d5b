#!/usr/bin/env bash
# gpu_check.sh [--dry] [--bundle DIR] [OUTDIR]: the one GPU check of issue #12, under 8 minutes on a bare GPU machine.
#
#   1. --bundle DIR (the way to run it on the device machine): uses the programs that bench/gpu_bundle.sh built on
#      the build machine (DIR/cmteb-gpu-bundle.tar.xz, unpacked under the work folder, or DIR already unpacked) and
#      builds nothing; finds the GPU machine's libcublas.so.13 (/usr/local/cuda*/lib64, /usr/lib/x86_64-linux-gnu,
#      python3's nvidia/*/lib, else a time-limited find under /usr and /opt) and hands its folder to the bundled
#      programs only (CMTEB_CUBLAS_LIB, read by the bundle's wrappers). glibc: the bundle is built on Debian 12
#      (glibc 2.36) and uses the GPU machine's glibc (Ubuntu 24.04: 2.39, newer, so it runs; the bundle's
#      MANIFEST.txt names the newest glibc symbol version it needs).
#      Without --bundle (a machine with our build packages): installs the build dependencies when missing
#      (scripts/setup.sh's list; only as root, not in --dry), configures with -DCMTEB_CUDA=ON
#      -DCMAKE_CUDA_ARCHITECTURES=90 (GPU_CHECK_ARCH), builds, and builds bench/gpu_bench.cu and bench/gpu_models.c
#   2. the gpu tests: with a bundle, its test programs run directly (test_gpu_*, test_cuda_emu_kernels; ctest's
#      environment: CMTEB_SRC is this checkout); else ctest -L gpu
#   3. parity: every fixture model folder, CPU fp32 vs GPU fp32 (max relative difference, 1e-4 required) and
#      GPU bf16 (lowest cosine, 0.999 required)
#   4. tokens/s and MFU (model FLOPs/s over the cuBLAS bf16 GEMM peak measured in this run; FLOPs:
#      bench/gpu_models.c): bge-small shape on STS sentences, BERT-base shape on 512-token passages (SciFact corpus,
#      else synthetic); load time measured apart and subtracted
#   5. STSBenchmark (DemoSTS without $CMTEB_SHARED/data) main score, CPU fp32 vs GPU bf16, bge-small-shaped random
#      model: within 0.2 points
#   6. last, with GPU_CHECK_7B_SECONDS (default 170) kept for it: a 7B NV-Embed-shaped model (14.8 GB of random
#      BF16 written by gpu_models, one thread per core) on 300-token passages; a 1-layer probe measures the disk
#      first, and when all 32 layers would not be written within GPU_CHECK_7B_WRITE (70) s or would not fit the
#      disk, fewer layers are written (nvembed-7b:N), said in the row, and the FLOPs (so MFU) are counted for N
# Writes OUTDIR/gpu_check.md (a markdown table) and OUTDIR/gpu_check.log; OUTDIR: the argument, else $OUT,
# else build-gpucheck/out. Every step runs under `timeout`, never past GPU_CHECK_SECONDS (default 465 s).
# --dry: what can run without a GPU (here): the bundle or the CUDA build, the tools, the models, the CPU side of
# every measurement and check; GPU steps are reported as skipped. Exit 1 when a step FAILED (skipped is not failed).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DRY=0
BUNDLE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry) DRY=1; shift ;;
    --bundle) [ $# -ge 2 ] || { echo "gpu_check.sh: --bundle needs a folder" >&2; exit 2; }; BUNDLE=$2; shift 2 ;;
    --bundle=*) BUNDLE=${1#--bundle=}; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "gpu_check.sh: unknown option $1 (--dry, --bundle DIR, OUTDIR)" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ -n "$BUNDLE" ]; then
  case "$BUNDLE" in /*) ;; *) BUNDLE=$PWD/$BUNDLE ;; esac
  [ -d "$BUNDLE" ] || { echo "gpu_check.sh: --bundle $BUNDLE: no such folder (bench/gpu_bundle.sh makes it)" >&2
                        exit 2; }
fi
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
STOP=$((DEADLINE - ${GPU_CHECK_7B_SECONDS:-170}))   # steps before the 7B model end by here; the 7B gets the rest
ROWS=()
log() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$LOG" >&2; }
row() { ROWS+=("| $1 | $2 | $3 |"); log "RESULT $1: $2 ($3)"; }
# run LIMIT cmd...: the command under timeout, never past the current phase's end (STOP); output to the log
run() {
  local lim=$1; shift
  local left=$((STOP - $(date +%s) - 5))
  [ "$left" -lt "$lim" ] && lim=$left
  if [ "$lim" -le 0 ]; then log "no time left for: $*"; return 124; fi
  log "+ (limit ${lim}s) $*"
  timeout -k 5 "$lim" "$@" >> "$LOG" 2>&1
}
finish() {
  local title="# bench/gpu_check.sh"
  [ -n "$BUNDLE" ] && title+=" --bundle"
  [ $DRY = 1 ] && title+=" (dry run: no GPU steps)"
  {
    echo "$title"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ), $(uname -n), $NPROC CPU cores; GPU: ${GPU_NAME:-none}; $(( $(date +%s) - START )) s"
    echo
    echo "| check | result | detail |"
    echo "|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
  } > "$MD"
  cat "$MD"
  if grep -q '| FAILED' "$MD"; then exit 1; fi   # a failed step fails the script (skipped steps do not)
}
trap finish EXIT

built=0
TESTS=()
if [ -n "$BUNDLE" ]; then
# ---- 1. the bundle (bench/gpu_bundle.sh): unpack, find cuBLAS, check that every library resolves -------------------
  B=$BUNDLE
  if [ -f "$BUNDLE/cmteb-gpu-bundle.tar.xz" ]; then
    B=$WORK/bundle; rm -rf "$B"; mkdir -p "$B"
    if command -v xz > /dev/null; then run 60 tar -C "$B" -xJf "$BUNDLE/cmteb-gpu-bundle.tar.xz"
    else run 60 python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$BUNDLE/cmteb-gpu-bundle.tar.xz" "$B"; fi || row bundle FAILED "unpacking $BUNDLE/cmteb-gpu-bundle.tar.xz"
  fi
  # find_cublas: the first folder holding libcublas.so.13 and libcublasLt.so.13 (python3 without the bundle's libs)
  find_cublas() {
    local d
    for d in ${CMTEB_CUBLAS_LIB:-} /usr/local/cuda/lib64 /usr/local/cuda-*/lib64 \
             /usr/local/cuda/targets/x86_64-linux/lib \
             /usr/local/cuda/lib /usr/lib/x86_64-linux-gnu \
             $(timeout 20 python3 -c 'import os, nvidia
for p in nvidia.__path__:
    for s in sorted(os.listdir(p)):
        print(os.path.join(p, s, "lib"))' 2>/dev/null); do
      [ -f "$d/libcublas.so.13" ] && [ -f "$d/libcublasLt.so.13" ] && { echo "$d"; return 0; }
    done
    d=$(timeout 30 find /usr /opt -name libcublas.so.13 -print -quit 2>/dev/null)
    [ -n "$d" ] && { dirname "$d"; return 0; }
    return 1
  }
  if CUBLAS_DIR=$(find_cublas); then
    export CMTEB_CUBLAS_LIB=$CUBLAS_DIR
    row cuBLAS found "$CUBLAS_DIR/libcublas.so.13"
  elif [ $DRY = 1 ]; then row cuBLAS "not found" "dry run: not needed"
  else row cuBLAS FAILED "no libcublas.so.13 in /usr/local/cuda*, /usr/lib/x86_64-linux-gnu, python3's nvidia/*/lib," \
    "/usr, /opt"; fi
  BIN=$B/cmteb; GM=$B/gpu_models; GB=$B/gpu_bench
  for t in "$B"/bin/test_*; do [ -x "$t" ] && TESTS+=("$(basename "$t")"); done
  if [ -x "$B/bin/cmteb" ]; then
    # every library a bundled program needs resolves to the bundle or to the machine's glibc (cuBLAS: row above)
    missing=$(for f in "$B"/bin/* "$B"/lib/*; do
                LD_LIBRARY_PATH="$B/lib${CMTEB_CUBLAS_LIB:+:$CMTEB_CUBLAS_LIB}" ldd "$f" 2>/dev/null | grep 'not found'
              done | awk '$1 !~ /^libcublas/ {print $1}' | sort -u | tr '\n' ' ')
    nlib=$(ls "$B/lib" | wc -l)
    glibc_here=$(ldd --version | head -1 | grep -oE '[0-9]+\.[0-9]+$')
    glibc_need=$(grep -m1 '^# glibc' "$B/MANIFEST.txt" 2>/dev/null | grep -oE 'GLIBC_[0-9.]+' | sed 's/GLIBC_//')
    if [ -n "$glibc_need" ] && [ -n "$glibc_here" ] \
       && [ "$(printf '%s\n' "$glibc_need" "$glibc_here" | sort -V | tail -1)" != "$glibc_here" ]; then
      row bundle FAILED "the bundle needs glibc $glibc_need, this machine has $glibc_here (build on an older system)"
    elif [ -n "$missing" ]; then row bundle FAILED "libraries not found: $missing"
    elif run 20 "$BIN" --version; then
      built=1
      row bundle ok "$nlib libraries; needs glibc ${glibc_need:-?}, here ${glibc_here:-?}"
    else row bundle FAILED "$BIN --version (see log)"; fi
  else row bundle FAILED "$B/bin/cmteb missing: not a bench/gpu_bundle.sh bundle"; fi
else
# ---- 1. dependencies ----------------------------------------------------------------------------------------
pkgs=(build-essential cmake pkg-config libopenblas-dev libcjson-dev libcsv-dev libfaiss-dev zlib1g-dev
      libcurl4-openssl-dev libssl-dev libarchive-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then row deps ok "all build packages present"
elif [ $DRY = 1 ] || [ "$(id -u)" != 0 ]; then row deps "missing" "${missing[*]} (not root or --dry: not installed)"
elif run 60 bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing[*]}"
then row deps installed "${missing[*]}"
else row deps FAILED "apt-get install ${missing[*]} (see log; no apt or network? bench/gpu_bundle.sh, --bundle)"; fi

# ---- 2. build with CUDA ----------------------------------------------------------------------------------------
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
if run 40 cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMTEB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
     -DCMAKE_CUDA_COMPILER="$NVCC" && run 260 cmake --build "$BUILD" -j"$NPROC"; then
  built=1; row build ok "CUDA on, sm_$ARCH, $(( $(date +%s) - START )) s since start"
else row build FAILED "see $LOG"; fi
BIN="$BUILD/cmteb"

# ---- 3. bench tools -------------------------------------------------------------------------------------------
GB="$WORK/gpu_bench"
run 60 "$NVCC" -O2 -arch=sm_"$ARCH" -o "$GB" "$SRC/bench/gpu_bench.cu" -lcublas \
  && row gpu_bench built "nvcc sm_$ARCH" || row gpu_bench FAILED "nvcc (see log)"
GM="$WORK/gpu_models"
run 30 cc -O2 -std=c11 -pthread -o "$GM" "$SRC/bench/gpu_models.c" -lm && row gpu_models built "cc" \
  || row gpu_models FAILED "cc"
fi

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
if [ $built = 1 ] && [ -n "$BUNDLE" ]; then
  # ctest's environment (tests/CMakeLists.txt TEST_ENV) with this checkout's paths
  mkdir -p "$WORK/test-tmp"
  for t in "${TESTS[@]}"; do
    case "$t" in test_gpu_*) lim=150 ;; *) lim=90 ;; esac
    run "$lim" env CMTEB_SRC="$SRC" CMTEB_BUILD="$B" CMTEB_BIN="$BIN" CMTEB_SHARED="$SHARED" \
      CMTEB_TMP="$WORK/test-tmp" OPENBLAS_NUM_THREADS=1 CMTEB_DEVICE=cpu "$B/$t"
    rc=$?
    if [ $rc = 0 ]; then row "$t" ok "passed"
    elif [ $rc = 77 ] && { [ $HAVE_GPU = 0 ] || [ "${t#test_gpu_}" = "$t" ]; }; then
      row "$t" skipped "exit 77 (no GPU visible)"
    elif [ $rc = 77 ]; then row "$t" FAILED "skipped (exit 77) although cmteb info sees a GPU"
    else row "$t" FAILED "exit $rc (see log)"; fi
  done
elif [ $built = 1 ]; then
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
# mk SHAPE[:LAYERS] TOKENIZER LIMIT: writes the random-weight folder $WORK/SHAPE
mk() { mkdir -p "$WORK/${1%%:*}" && run "$3" "$GM" write "$1" "$WORK/${1%%:*}" "$2"; }
mk bge-small "$SRC/tests/fixtures/hf/bert-tiny/tokenizer.json" 30 || row "model bge-small" FAILED "gpu_models write"
mk bert-base "$SRC/tests/fixtures/hf/bert-tiny/tokenizer.json" 40 || row "model bert-base" FAILED "gpu_models write"

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
    --output "$WORK/p_$n.b16.npy" --device cuda:0 --dtype bf16 --quiet || {
    # architectures the CUDA engine refuses by design (CPU only): not a parity failure
    if tail -n 5 "$LOG" | grep -q "CUDA engine does not run"; then row "parity $n" "cpu only" "CUDA engine refuses it"
    else row "parity $n" FAILED "gpu embed"; fi
    return; }
  r32=$("$GM" cmp "$WORK/p_$n.cpu.npy" "$WORK/p_$n.f32.npy"); r16=$("$GM" cmp "$WORK/p_$n.cpu.npy" "$WORK/p_$n.b16.npy")
  if awk -v a="$(cut -d' ' -f2 <<<"$r32")" -v c="$(cut -d' ' -f4 <<<"$r16")" 'BEGIN {exit !(a <= 1e-4 && c >= 0.999)}'
  then row "parity $n" ok "fp32 ${r32}; bf16 ${r16}"; else row "parity $n" FAILED "fp32 ${r32}; bf16 ${r16}"; fi
}
for d in "$SRC"/tests/fixtures/hf/*/ "$SRC"/tests/fixtures/dec/*_tiny/; do
  [ -f "$d/config.json" ] && [ -n "$(ls "$d"/*.safetensors 2>/dev/null)" ] && parity "${d%/}"
done

# ---- 6. throughput and MFU -----------------------------------------------------------------------------------------
PEAK=""
if [ $HAVE_GPU = 1 ] && run 40 "$GB" 20; then
  PEAK=$(grep -E '^peak_tflops' "$LOG" | tail -1 | cut -d' ' -f2)
  row "cuBLAS bf16 GEMM peak" "$PEAK TFLOP/s" "$(grep -E '^gemm ' "$LOG" | tail -3 | tr '\n' ';')"
elif [ $HAVE_GPU = 1 ]; then row "cuBLAS bf16 GEMM peak" FAILED "gpu_bench"; fi
now() { date +%s.%N; }
# tput NAME DIR INPUT MAXLEN LIMIT [SHAPE]: SHAPE (gpu_models' name for the FLOPs) defaults to DIR's name
tput() {
  local name=$1 dir=$2 input=$3 maxlen=$4 lim=$5 shape=${6:-$(basename "$2")}
  [ $built = 1 ] && [ -d "$dir" ] || return
  local tok; tok=$(timeout -k 5 60 "$BIN" tokenize --model "hf:$dir" --input "$input" --max-length "$maxlen" | cut -f1 | wc -w)
  local n; n=$(wc -l < "$input")
  local avg; avg=$(awk -v t="$tok" -v n="$n" 'BEGIN {printf "%.1f", t / n}')
  local fpt; fpt=$("$GM" flops "$shape" "$avg")
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
# ---- 8. the 7B NV-Embed shape, last, with the time kept for it -------------------------------------------------------
# The weights are written here (nothing downloaded): first 1 of the 32 layers, to measure the disk; all 32 when the
# projection fits GPU_CHECK_7B_WRITE seconds (default 70) and the free disk, else as many layers as fit, said in the
# row, with FLOPs (and so MFU) counted for the layers written.
STOP=$DEADLINE
TOK7="$SRC/tests/fixtures/dec/nvembed_tiny/tokenizer.json"
t0=$(now)
if mk nvembed-7b:1 "$TOK7" 60; then
  dt1=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
  b1=$("$GM" bytes nvembed-7b:1); b2=$("$GM" bytes nvembed-7b:2); b32=$("$GM" bytes nvembed-7b)
  avail=$(( $(df -P -k "$WORK" | awk 'NR == 2 {print $4}') * 1024 + b1 ))   # the probe's file is rewritten
  layers=$(awk -v t="$dt1" -v b1="$b1" -v b2="$b2" -v b32="$b32" -v w="${GPU_CHECK_7B_WRITE:-70}" -v av="$avail" '
    BEGIN { per = b2 - b1; fixed = b1 - per; rate = b1 / (t > 0.01 ? t : 0.01);
            cap = rate * w; if (av - 2e9 < cap) cap = av - 2e9;    # 2 GB of the disk left free
            n = b32 <= cap ? 32 : int((cap - fixed) / per); if (n < 1) n = 1; if (n > 32) n = 32; print n }')
  probe="1-layer probe: $b1 bytes in $dt1 s; $((avail / 1000000000)) GB free"
  if [ $HAVE_GPU = 1 ]; then
    shape7=nvembed-7b; label7="NV-Embed 7B shape, 300-token passages"
    if [ "$layers" -lt 32 ]; then
      shape7=nvembed-7b:$layers; label7="NV-Embed 7B shape, $layers of 32 layers (disk speed/space), 300-token passages"
    fi
    t0=$(now)
    if mk "$shape7" "$TOK7" 150; then
      row "model $shape7" written "$("$GM" bytes "$shape7") bytes of random BF16 in $(awk -v a="$t0" -v b="$(now)" \
        'BEGIN {printf "%.1f", b - a}') s ($probe)"
      tput "$label7" "$WORK/nvembed-7b" "$WORK/pass300.txt" 300 120 "$shape7"
    else row "model $shape7" FAILED "gpu_models write (disk space or time; $probe)"; fi
  else
    row "model nvembed-7b" "skipped (no GPU)" "$probe: all 32 layers ($b32 bytes) would take $(awk -v t="$dt1" \
      -v a="$b1" -v b="$b32" 'BEGIN {printf "%.0f", t * b / a}') s at this speed; would write $layers layers"
  fi
else row "model nvembed-7b" FAILED "gpu_models write of the 1-layer probe"; fi
rm -rf "$WORK/nvembed-7b"
log "done"
