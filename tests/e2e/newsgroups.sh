#!/usr/bin/env bash
# newsgroups.sh: a --task-file Clustering task over the 20 Newsgroups sample
# in ../shared/data/extra (10 sets of 1000 subjects, 20 groups), MTEB's v1
# protocol, with `hash` and, when CMTEB_GLOVE names the fixture's GloVe file,
# GloVe. The V-measure must be within one point of scikit-learn's
# MiniBatchKMeans mean over seeds 0..9 on the same vectors
# (tests/fixtures/learning/e2e/); v_measures has one value per set.
set -euo pipefail
src="$CMTEB_SHARED/data/extra/twentynewsgroups_mini"
[ -f "$src/test.jsonl" ] || { echo "SKIP: $src/test.jsonl absent"; exit 77; }
source "$CMTEB_SRC/tests/fixtures/learning/e2e/check_lib.sh"
learning_models
out="$CMTEB_TMP/e2e_newsgroups"
rm -rf "$out"; mkdir -p "$out"
cat > "$out/task.json" <<JSON
{"name": "NewsgroupsMini", "type": "Clustering", "data": "$src", "split": "test",
 "main_score": "v_measure", "settings": {"batch_size": 500, "protocol": "v1"}}
JSON
for i in "${!MODELS[@]}"; do
  "$CMTEB_BIN" run --model "${MODELS[$i]}" --task-file "$out/task.json" --output "$out/r$i" --quiet >/dev/null
  res=$(ls "$out"/r$i/*/*/NewsgroupsMini.json | head -1)
  /usr/bin/python3 - "$res" "${FIXTURES[$i]}" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))["scores"]["test"][0]
ref = json.load(open(sys.argv[2]))["NewsgroupsMini"]
assert set(got) >= {"v_measure", "v_measure_std", "v_measures", "main_score"}, sorted(got)
assert len(got["v_measures"]) == 10 and got["main_score"] == got["v_measure"], got
mean = ref["v_measure_mean_seeds"]
d = abs(got["v_measure"] - mean)
print(f"NewsgroupsMini {json.load(open(sys.argv[2]))['model']}: v_measure {got['v_measure']:.5f}, sklearn "
      f"{mean:.5f} (mean of seeds 0-9; seed 42: {ref['v_measure_seed42']:.5f}), |diff| {100 * d:.3f} points")
assert d <= 0.01, (got["v_measure"], mean)
PY
done
echo "${#MODELS[@]} model(s) passed"
