#!/usr/bin/env bash
# counterfactual.sh: `cmteb run --tasks AmazonCounterfactualClassification`
# (hf_subset "en", binary labels, 32 rows per label) on ../shared/data with
# `hash` and, when CMTEB_GLOVE names the fixture's GloVe file, GloVe.
# accuracy, f1, f1_weighted and ap (on hard predictions) within 0.5 points of
# scikit-learn running MTEB's protocol on the same vectors
# (tests/fixtures/learning/e2e/); the entry is filed under hf_subset "en".
set -euo pipefail
data="$CMTEB_SHARED/data"
[ -d "$data/mteb/amazon_counterfactual/en" ] || { echo "SKIP: $data/mteb/amazon_counterfactual/en absent"; exit 77; }
source "$CMTEB_SRC/tests/fixtures/learning/e2e/check_lib.sh"
learning_models
out="$CMTEB_TMP/e2e_counterfactual"
rm -rf "$out"; mkdir -p "$out"
for i in "${!MODELS[@]}"; do
  "$CMTEB_BIN" run --model "${MODELS[$i]}" --tasks AmazonCounterfactualClassification --data-dir "$data" --output "$out/r$i" --quiet >/dev/null
  check_classification "$out/r$i" AmazonCounterfactualClassification "${FIXTURES[$i]}" 10 "accuracy f1 f1_weighted ap"
done
echo "${#MODELS[@]} model(s) passed"
