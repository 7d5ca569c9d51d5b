#!/usr/bin/env bash
# no_fma_evaluators.sh: the evaluators (tasks/) and reports (reports/) are built with -ffp-contract=off, so
# their scores do not depend on whether the build's CPU flags offer FMA (-march=native does, the sanitizer
# build does not). Checks the compiled objects: no fused multiply-add instruction outside the kernels that ask
# for one by intrinsic (tasks/retrieval/topk.c). A build for a CPU without FMA passes trivially.
set -uo pipefail
command -v objdump >/dev/null || { echo "objdump not found (binutils)"; exit 77; }
fail=0; seen=0
for lib in "$CMTEB_BUILD/libcmteb_tasks.a" "$CMTEB_BUILD/libcmteb_reports.a"; do
  [ -f "$lib" ] || { echo "FAIL: $lib not found"; fail=1; continue; }
  while read -r obj n; do
    seen=$((seen + 1))
    case "$obj" in topk.c.o) continue ;; esac
    if [ "$n" -gt 0 ]; then echo "FAIL: $(basename "$lib"): $obj has $n fused multiply-adds"; fail=1; fi
  done < <(objdump -d --no-show-raw-insn "$lib" | awk '
      /^In archive/ {next}
      /file format/ {if (obj != "") print obj, n; obj = $1; sub(/:$/, "", obj); n = 0; next}
      /\tv?f(n)?m(add|sub)[0-9]+[sp][sd]/ {n++}
      END {if (obj != "") print obj, n}')
done
echo "objects checked: $seen"
[ "$seen" -gt 20 ] || { echo "FAIL: too few objects read ($seen)"; fail=1; }
exit $fail
