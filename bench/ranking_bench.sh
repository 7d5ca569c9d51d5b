#!/usr/bin/env bash
# ranking_bench.sh: retrieval scoring, cmteb (exact search in chunks, tasks/retrieval/topk.c;
# CMTEB_FAISS_EXACT=1 runs the earlier FAISS IndexFlatIP kernel instead +
# trec_eval-semantics metrics in C) against numpy + the Python reference of
# MTEB v1's search and metrics, on the same synthetic data, in one run.
# usage: bench/ranking_bench.sh BUILD_DIR [N_DOCS N_QUERIES DIM]   (from the repository root;
#        default 100000 documents x 1000 queries at dim 384)
# Both sides use the machine's cores through OpenBLAS (and OpenMP for cmteb).
set -eu
BUILD=${1:?usage: bench/ranking_bench.sh BUILD_DIR [N_DOCS N_QUERIES DIM]}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
c++ -O2 -fopenmp -D_GNU_SOURCE -I include $(for l in core engine embedding datasets tasks reports; do printf -- "-I %s/include " "$l"; done) -I . -I /usr/include/cjson -x c bench/ranking_bench.c -x none \
    "$BUILD/libcmteb.a" $(pkg-config --libs libcjson openblas) -lcsv -lfaiss -lz -lcurl -lcrypto -larchive -ldl -lm -lpthread \
    -o "$T/ranking_bench"
/usr/bin/python3 bench/ranking_bench.py make "$T" "${2:-100000}" "${3:-1000}" "${4:-384}"
echo "cmteb:"
"$T/ranking_bench" "$T" | tee "$T/c.json"
echo "numpy + reference:"
/usr/bin/python3 bench/ranking_bench.py run "$T" | tee "$T/py.json"
/usr/bin/python3 - "$T/c.json" "$T/py.json" <<'PY'
import json, sys
c, p = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
keys = [k for k in p if "_at_" in k]
diff = [k for k in keys if c[k] != p[k]]
print("metrics identical: %d/%d%s" % (len(keys) - len(diff), len(keys), (" (differ: %s)" % diff) if diff else ""))
for stage in ("search_s", "metrics_s"):
    print("%-9s cmteb %8.3f s   reference %8.3f s   ratio %6.1fx" % (stage, c[stage], p[stage], p[stage] / c[stage]))
tc, tp = c["search_s"] + c["metrics_s"], p["search_s"] + p["metrics_s"]
print("total     cmteb %8.3f s   reference %8.3f s   ratio %6.1fx" % (tc, tp, tp / tc))
PY
