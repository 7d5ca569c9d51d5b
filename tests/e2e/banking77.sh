#!/usr/bin/env bash
# banking77.sh: `cmteb run --tasks Banking77Classification` on ../shared/data
# with `hash` and, when CMTEB_GLOVE names the GloVe file the fixture was made
# with (scripts/fetch_glove.sh), GloVe. accuracy, f1 and f1_weighted must be
# within 0.5 points of scikit-learn running MTEB's protocol on the same
# vectors (tests/reference/ref_learn_e2e.py -> tests/fixtures/learning/e2e/);
# the results hold MTEB 1.12's keys and 10 scores_per_experiment.
set -euo pipefail
data="$CMTEB_SHARED/data"
[ -d "$data/mteb/banking77" ] || { echo "SKIP: $data/mteb/banking77 absent"; exit 77; }
source "$CMTEB_SRC/tests/fixtures/learning/e2e/check_lib.sh"
learning_models
out="$CMTEB_TMP/e2e_banking77"
rm -rf "$out"; mkdir -p "$out"
for i in "${!MODELS[@]}"; do
  "$CMTEB_BIN" run --model "${MODELS[$i]}" --tasks Banking77Classification --data-dir "$data" --output "$out/r$i" --quiet >/dev/null
  check_classification "$out/r$i" Banking77Classification "${FIXTURES[$i]}" 10 "accuracy f1 f1_weighted"
done
echo "${#MODELS[@]} model(s) passed"
