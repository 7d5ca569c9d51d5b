#!/usr/bin/env bash
# gpu_bundle.sh [OUT_DIR]: builds HERE everything bench/gpu_check.sh runs on the GPU machine and packs it, with the
# shared libraries it needs, into one compressed file, so that the GPU machine builds nothing.
#
# Why: the GPU machine (issue #12) is a bare image with CUDA 13 (nvcc, cuBLAS), CMake and PyTorch's python3, but
# without our -dev packages (OpenBLAS, cJSON, libcsv, FAISS, libcurl, libssl, libarchive), without apt and without
# network: gpu_check.sh's build step cannot work there. Run this on the build machine, then on the GPU machine
#     bash bench/gpu_check.sh --bundle build-gpubundle/bundle "$OUT"
# (bench/RESULTS.md, "GPU engine", gives the device call with its carry list).
#
#   1. configures GPU_BUNDLE_BUILD (default build-gpubundle/, ignored by .gitignore's /build*/): Release,
#      -DCMTEB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 (GPU_CHECK_ARCH), -DCMTEB_MPI=OFF, and -DCMTEB_NATIVE=OFF with
#      -march=x86-64-v3 (AVX2/FMA: the GPU machine's CPU is not this one, so no -march=native)
#   2. builds cmteb, every tests/unit/test_gpu_*.c, test_cuda_emu_kernels, bench/gpu_models.c and bench/gpu_bench.cu
#   3. stages bin/ (the programs), lib/ (the closure of their shared libraries from ldd) and one wrapper script per
#      program (bundle/cmteb, ...: sets LD_LIBRARY_PATH to lib/ plus $CMTEB_CUBLAS_LIB, then execs bin/NAME; only
#      the bundled programs see lib/, never the GPU machine's own tools). Left out of lib/:
#        - the C library family (glibc: libc, libm, libmvec, libpthread, libdl, librt, libresolv, libutil, libnsl,
#          libanl, libnss_*, ld-linux): glibc's parts must match each other, so the GPU machine's own are used.
#          We build on Debian 12 (glibc 2.36); the GPU machine is Ubuntu 24.04 (glibc 2.39): newer, so binaries
#          linked against 2.36 run there (checked by `objdump -T`: the highest GLIBC_ version the bundle needs is
#          written to the manifest). Building on a NEWER glibc than the GPU machine's would not work.
#        - libcuda (the driver: it must be the GPU machine's) and libcublas/libcublasLt (600 MB; the GPU machine has
#          them: gpu_check.sh finds them and passes their folder in CMTEB_CUBLAS_LIB)
#      Kept: libstdc++, libgcc_s, libgomp, libgfortran, libquadmath, OpenBLAS, cJSON, libcsv, libcurl, OpenSSL,
#      libarchive and their own dependencies, and libcudart (CUDA 13.0, which the 580 driver there runs).
#      With patchelf on PATH, RUNPATH is also set ($ORIGIN/../lib on bin/, $ORIGIN on lib/); without it the
#      wrappers' LD_LIBRARY_PATH does the same job.
#   4. OUT_DIR (default build-gpubundle/bundle) receives cmteb-gpu-bundle.tar.xz (bin/, lib/, wrappers,
#      MANIFEST.txt) and MANIFEST.txt beside it (every file, its size and where it came from, the sizes of the
#      archive and of the working tree that travels with it). The size is checked: the working tree plus the
#      archive must stay under GPU_BUNDLE_MAX_MIB (default 56) of the device's 64 MiB; over it is an error.
# DuckDB (libduckdb.so, dlopen'ed for parquet) is not bundled: no GPU check reads parquet.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${GPU_BUNDLE_BUILD:-$SRC/build-gpubundle}
OUTD=${1:-$BUILD/bundle}
ARCH=${GPU_CHECK_ARCH:-90}
JOBS=${GPU_BUNDLE_JOBS:-2}
MAX_MIB=${GPU_BUNDLE_MAX_MIB:-56}
STAGE=$BUILD/bundle-stage
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
say() { echo "gpu_bundle: $*" >&2; }
die() { say "error: $*"; exit 1; }
[ -x "$NVCC" ] || die "no nvcc (PATH or /usr/local/cuda/bin): the bundle needs the CUDA toolkit to build"
case "$OUTD" in /*) ;; *) OUTD=$PWD/$OUTD ;; esac

# ---- 1-2. configure and build -------------------------------------------------------------------------------------
cfg=(-DCMAKE_BUILD_TYPE=Release -DCMTEB_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_CUDA_COMPILER="$NVCC"
     -DCMTEB_NATIVE=OFF -DCMAKE_C_FLAGS=-march=x86-64-v3 -DCMAKE_CXX_FLAGS=-march=x86-64-v3)
grep -q 'option(CMTEB_MPI' "$SRC/CMakeLists.txt" && cfg+=(-DCMTEB_MPI=OFF)
say "configuring $BUILD"
mkdir -p "$BUILD"
cmake -S "$SRC" -B "$BUILD" "${cfg[@]}" > "$BUILD/gpu_bundle.configure.log" 2>&1 \
  || { cat "$BUILD/gpu_bundle.configure.log" >&2; die "cmake configure failed"; }
tests=(test_cuda_emu_kernels)
for f in "$SRC"/tests/unit/test_gpu_*.c; do [ -f "$f" ] && tests+=("$(basename "$f" .c)"); done
say "building cmteb ${tests[*]} (-j$JOBS)"
cmake --build "$BUILD" -j"$JOBS" --target cmteb "${tests[@]}" || die "build failed"
say "building bench/gpu_models and bench/gpu_bench (nvcc sm_$ARCH)"
mkdir -p "$BUILD/gpu-tools"
T=$BUILD/gpu-tools
cc -O2 -std=c11 -pthread -o "$T/gpu_models" "$SRC/bench/gpu_models.c" -lm || die "cc bench/gpu_models.c failed"
"$NVCC" -O2 -arch=sm_"$ARCH" -o "$T/gpu_bench" "$SRC/bench/gpu_bench.cu" -lcublas \
  || die "nvcc bench/gpu_bench.cu failed"

# ---- 3. stage ------------------------------------------------------------------------------------------------------
rm -rf "$STAGE" && mkdir -p "$STAGE/bin" "$STAGE/lib"
progs=(cmteb "${tests[@]}" gpu_models gpu_bench)
declare -A built=()
for p in "${progs[@]}"; do
  for d in "$BUILD" "$BUILD/tests" "$T"; do [ -x "$d/$p" ] && [ -f "$d/$p" ] && { built[$p]=$d/$p; break; }; done
  [ -n "${built[$p]:-}" ] || die "$p was not built (looked in $BUILD, $BUILD/tests, $BUILD/gpu-tools)"
  cp "${built[$p]}" "$STAGE/bin/$p"
  strip --strip-unneeded "$STAGE/bin/$p" 2>/dev/null || true
  # the wrapper: the bundled programs, and only they, see lib/ (and the GPU machine's cuBLAS folder)
  printf '%s\n' '#!/bin/sh' "# runs bin/$p with the bundled libraries (bench/gpu_bundle.sh)" \
    'd=$(cd "$(dirname "$0")" && pwd)' \
    'LD_LIBRARY_PATH="$d/lib${CMTEB_CUBLAS_LIB:+:$CMTEB_CUBLAS_LIB}" exec "$d/bin/'"$p"'" "$@"' > "$STAGE/$p"
  chmod +x "$STAGE/$p"
done
# excluded: glibc's family (must match the GPU machine's own libc), the driver, cuBLAS (found on the GPU machine)
excluded() {
  case "$1" in
    linux-vdso.so*|ld-linux*|libc.so.*|libm.so.*|libmvec.so.*|libpthread.so.*|libdl.so.*|librt.so.*) return 0 ;;
    libresolv.so.*|libutil.so.*|libnsl.so.*|libanl.so.*|libnss_*|libBrokenLocale.so.*|libthread_db.so.*) return 0 ;;
    libcuda.so*|libcublas.so*|libcublasLt.so*|libduckdb.so*) return 0 ;;
  esac
  return 1
}
declare -A origin=()
for p in "${progs[@]}"; do
  # ldd prints the whole transitive closure: "NAME => PATH (ADDR)"; "not found" is tolerated only for excluded names
  while read -r name arrow path _; do
    [ "$arrow" = "=>" ] || continue
    excluded "$name" && continue
    [ "$path" = "not" ] && die "ldd $p: $name not found on this machine"
    [ -n "${origin[$name]:-}" ] && continue
    origin[$name]=$path
    cp -L "$path" "$STAGE/lib/$name"
    chmod u+w "$STAGE/lib/$name"
  done < <(ldd "${built[$p]}")
done
if command -v patchelf > /dev/null; then
  for f in "$STAGE"/bin/*; do patchelf --set-rpath '$ORIGIN/../lib' "$f"; done
  for f in "$STAGE"/lib/*; do patchelf --set-rpath '$ORIGIN' "$f"; done
  runpath="RUNPATH set by patchelf (\$ORIGIN/../lib, \$ORIGIN) and LD_LIBRARY_PATH in the wrappers"
else
  runpath="no patchelf here: LD_LIBRARY_PATH set by the wrappers (bundle/NAME) only"
fi
# the newest glibc symbol version anything in the bundle needs (the GPU machine's glibc must be at least that)
need_glibc=$(for f in "$STAGE"/bin/* "$STAGE"/lib/*; do objdump -T "$f" 2>/dev/null; done \
  | grep -oE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' | sort -u -V | tail -1)
here_glibc=$(ldd --version | head -1 | grep -oE '[0-9]+\.[0-9]+$')

# ---- 4. manifest, archive, size check ---------------------------------------------------------------------------
tree_bytes=$(cd "$SRC" && { git ls-files -z; git ls-files -z --others --exclude-standard; } \
  | xargs -0 -r stat -L -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
manifest() {
  echo "# cmteb GPU bundle (bench/gpu_bundle.sh), $(date -u +%Y-%m-%dT%H:%MZ), on $(uname -n)"
  echo "# source: $(cd "$SRC" && git rev-parse --short HEAD 2>/dev/null || echo '?')" \
       "$( [ -n "$(cd "$SRC" && git status --porcelain 2>/dev/null | head -1)" ] && echo '+ uncommitted changes')"
  echo "# build: Release, CUDA sm_$ARCH, -march=x86-64-v3, MPI off;" \
       "nvcc $("$NVCC" --version | grep -oE 'release [0-9.]+')"
  echo "# glibc: built against $here_glibc; newest symbol version needed: ${need_glibc:-?}"
  echo "# $runpath"
  echo "# not bundled (found on the GPU machine): glibc's libraries, libcuda, libcublas, libcublasLt"
  echo "# size_bytes  path  (from)"
  for f in "$STAGE"/bin/* "$STAGE"/lib/*; do
    rel=${f#"$STAGE"/}; n=${rel#lib/}
    printf '%11d  %s  (%s)\n' "$(stat -c %s "$f")" "$rel" "${origin[$n]:-built}"
  done
  for p in "${progs[@]}"; do printf '%11d  %s  (wrapper)\n' "$(stat -c %s "$STAGE/$p")" "$p"; done
  echo "# total uncompressed: $(du -sb "$STAGE" | cut -f1) bytes"
}
manifest > "$STAGE/MANIFEST.txt"
mkdir -p "$OUTD"
rm -f "$OUTD/cmteb-gpu-bundle.tar.xz" "$OUTD/MANIFEST.txt"
say "compressing (xz -9, $(du -sb "$STAGE" | cut -f1) bytes)"
tar -C "$STAGE" -cf - . | xz -9 -T"$JOBS" > "$OUTD/cmteb-gpu-bundle.tar.xz"
arch_bytes=$(stat -c %s "$OUTD/cmteb-gpu-bundle.tar.xz")
{
  cat "$STAGE/MANIFEST.txt"
  echo "# archive cmteb-gpu-bundle.tar.xz: $arch_bytes bytes"
  echo "# working tree that travels with it (git ls-files + untracked, not ignored): $tree_bytes bytes"
  echo "# together: $(( (arch_bytes + tree_bytes) / 1048576 )) MiB of the device's 64 MiB (limit here: $MAX_MIB MiB)"
} > "$OUTD/MANIFEST.txt"
tail -4 "$OUTD/MANIFEST.txt" >&2
[ $((arch_bytes + tree_bytes)) -le $((MAX_MIB * 1048576)) ] \
  || die "archive ($arch_bytes bytes) + working tree ($tree_bytes bytes) is over $MAX_MIB MiB"
say "done: $OUTD (device: bash bench/gpu_check.sh --bundle ${OUTD#"$SRC"/} \$OUT)"
