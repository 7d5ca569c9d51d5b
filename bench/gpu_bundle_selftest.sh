#!/usr/bin/env bash
# gpu_bundle_selftest.sh [BUNDLE_DIR] [OUTDIR]: proves, on the build machine, that a bench/gpu_bundle.sh bundle runs
# without this machine's -dev libraries, as it must on the bare GPU machine: in a private mount namespace
# (unshare -m, root only) every shared library the bundle carries is hidden from the system folders (/dev/null bound
# over /usr/lib/x86_64-linux-gnu/NAME and its target; tmpfs over the openblas folders and /usr/local/cuda*/lib*,
# which also hides cudart and cuBLAS), except those the shell tools of gpu_check.sh need themselves (bash, tar, xz,
# awk, grep, python3, ...: listed in the output; a base Ubuntu image has its own copies). Then, with an empty
# environment (env -i PATH=/usr/bin:/bin), it checks with ldd that every library of every bundled program resolves
# into the bundle or to glibc, and runs `bench/gpu_check.sh --dry --bundle BUNDLE_DIR OUTDIR` (the GPU steps skip).
# Exit 0 when both hold; 77 when unshare is not possible here. BUNDLE_DIR: default build-gpubundle/bundle; OUTDIR:
# default build-gpubundle/selftest. As on the GPU machine, no ../shared data (GPU_SELFTEST_SHARED=DIR gives some).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE=${1:-$SRC/build-gpubundle/bundle}
OUTD=${2:-$SRC/build-gpubundle/selftest}
case "$BUNDLE" in /*) ;; *) BUNDLE=$PWD/$BUNDLE ;; esac
case "$OUTD" in /*) ;; *) OUTD=$PWD/$OUTD ;; esac
if [ ! -f "$BUNDLE/cmteb-gpu-bundle.tar.xz" ]; then
  echo "selftest: no $BUNDLE/cmteb-gpu-bundle.tar.xz (run bench/gpu_bundle.sh)" >&2; exit 1
fi
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  echo "selftest: needs root and unshare -m: skipped" >&2; exit 77
fi
mkdir -p "$OUTD"
LIBDIR=/usr/lib/x86_64-linux-gnu
names=$(tar -tJf "$BUNDLE/cmteb-gpu-bundle.tar.xz" | sed -n 's|^\./lib/||p' | grep -v '^$')
# what the script's own tools load (these stay visible: the GPU machine has its own)
tools="bash tar xz gzip awk mawk gawk grep sed python3 find timeout stat du df sort cut wc tr head tail tee date nproc
       ls mkdir rm cp cat env seq basename dirname ldd dpkg-query uname id"
keep=$(for t in $tools; do p=$(command -v "$t") && ldd "$(readlink -f "$p")" 2>/dev/null; done \
       | awk '/=>/ {print $1}' | sort -u)
hide=() kept=()
for n in $names; do
  if grep -qxF "$n" <<<"$keep"; then kept+=("$n"); else hide+=("$n"); fi
done
echo "selftest: hiding ${#hide[@]} of the bundle's libraries from the system: ${hide[*]}"
echo "selftest: left visible (the shell tools need them): ${kept[*]:-none}"
# like the GPU machine, where ../shared does not travel: no shared data (DemoSTS, synthetic passages) unless given
SHARED_DIR=${GPU_SELFTEST_SHARED:-/nonexistent}
export SRC BUNDLE OUTD LIBDIR SHARED_DIR
export HIDE="${hide[*]}"
unshare -m bash -c '
  set -u
  for d in $LIBDIR/openblas-pthread $LIBDIR/openblas-openmp $LIBDIR/blas $LIBDIR/lapack /usr/local/cuda*/lib* \
           /usr/local/cuda*/targets/x86_64-linux/lib; do
    [ -d "$d" ] && mount -t tmpfs none "$d"
  done
  for n in $HIDE; do
    for f in $LIBDIR/$n /lib/x86_64-linux-gnu/$n; do
      [ -e "$f" ] && mount --bind /dev/null "$(readlink -f "$f")"
    done
  done
  # the hidden libraries are really gone for the dynamic linker
  for n in $HIDE; do
    f=$LIBDIR/$n
    if [ -e "$f" ] && [ -s "$(readlink -f "$f")" ]; then echo "selftest: $f still readable"; exit 1; fi
  done
  B=$(mktemp -d) && tar -C "$B" -xJf "$BUNDLE/cmteb-gpu-bundle.tar.xz" || exit 1
  bad=0
  for f in "$B"/bin/* "$B"/lib/*; do
    env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$B/lib" ldd "$f" | awk -v b="$B/lib/" -v f="$f" "
      /=>/ && \$1 !~ /^libcublas/ {
        if (\$3 == \"not\") { print \"selftest: \" f \": \" \$1 \" not found\"; bad = 1 }
        else if (index(\$3, b) != 1 && \$1 !~ /^(libc|libm|libmvec|libpthread|libdl|librt|libresolv)\\.so/)
          { print \"selftest: \" f \": \" \$1 \" from \" \$3 \" (not the bundle)\"; bad = 1 } }
      END { exit bad }" || bad=1
  done
  rm -rf "$B"
  [ $bad = 0 ] && echo "selftest: ldd: every library of every bundled program resolves into the bundle or to glibc"
  env -i PATH=/usr/bin:/bin HOME=/tmp LD_LIBRARY_PATH= GPU_CHECK_WORK="$OUTD/work" CMTEB_SHARED="$SHARED_DIR" \
    bash "$SRC/bench/gpu_check.sh" --dry --bundle "$BUNDLE" "$OUTD"
  rc=$?
  echo "selftest: gpu_check.sh --dry --bundle: exit $rc"
  [ $bad = 0 ] && [ $rc = 0 ]
'
rc=$?
if [ $rc = 0 ] && grep -q FAILED "$OUTD/gpu_check.md"; then echo "selftest: gpu_check.md has FAILED rows"; rc=1; fi
echo "selftest: $( [ $rc = 0 ] && echo PASSED || echo FAILED ) (table: $OUTD/gpu_check.md)"
exit $rc
