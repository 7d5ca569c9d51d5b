#!/usr/bin/env bash
# decoder_bench.sh: tokens/s of the C decoder engine on a random-weight 1B-class decoder with BF16 weights
# (bench/decoder_bench.py prepare) against PyTorch running the same math on the same weights and token ids,
# same thread count, on STS-B sentences and SciFact passages; plus the sgemm peak for the fraction-of-peak
# column and the `cmteb info` footprint of a 7B-shaped (NV-Embed) config.
# usage: bench/decoder_bench.sh BUILD_DIR [SHARED_DIR] [THREADS] [N_STS] [N_SCI]   (from the repository root)
# env: CMTEB_BENCH_DIR keeps the model folder between runs; BF16_TEXTS (default 4, 0 = skip) texts for the
# PyTorch bfloat16 column (very slow on CPUs without AVX512-BF16, so only a few STS texts, reported per token;
# the SciFact row leaves it empty).
set -eu
BUILD=${1:?usage: bench/decoder_bench.sh BUILD_DIR [SHARED_DIR] [THREADS] [N_STS] [N_SCI]}
SHARED=${2:-../shared}
THREADS=${3:-2}
N_STS=${4:-256}
N_SCI=${5:-16}
T=${CMTEB_BENCH_DIR:-$(mktemp -d)}
[ -n "${CMTEB_BENCH_DIR:-}" ] || trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
CM="$BUILD/cmteb"
$PY bench/decoder_bench.py prepare "$T" "$SHARED/data" "$N_STS" "$N_SCI"
M="$T/dec-1b"
echo "model: $(du -sh "$M" | cut -f1) in $M; threads $THREADS"
peak=$($PY - "$THREADS" <<'PY'
import os, sys, time
os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[1]
import numpy as np
a = np.random.rand(2048, 2048).astype(np.float32); b = np.random.rand(2048, 2048).astype(np.float32)
a @ b
best = 0
for _ in range(5):
    t = time.time(); a @ b; best = max(best, 2 * 2048 ** 3 / (time.time() - t))
print("%.1f" % (best / 1e9))
PY
)
echo "sgemm peak (numpy/OpenBLAS 2048^3, $THREADS threads): $peak GFLOP/s"
printf '| texts | tokens | C tok/s | C %% of peak | PyTorch f32 tok/s | PyTorch bf16 tok/s | C / PyTorch f32 |\n|---|---|---|---|---|---|---|\n'
for set in sts scifact; do
    "$CM" tokenize --model "hf:$M" --json --input "$T/$set.txt" > "$T/$set.ids.jsonl"
    fl=$($PY bench/decoder_bench.py flops "$M" "$T/$set.ids.jsonl")
    ntok=$($PY -c "import json,sys; print(sum(len(json.loads(l)['ids']) for l in open(sys.argv[1])))" "$T/$set.ids.jsonl")
    echo "[$set] $ntok tokens, $fl FLOP" >&2
    c_s=$("$CM" embed --model "hf:$M" --pooling last --attention causal --threads "$THREADS" --input "$T/$set.txt" \
          --output "$T/$set.npy" 2>&1 | sed -n 's/.*encode \([0-9.]*\) s.*/\1/p')
    echo "[$set] C engine: $c_s s" >&2
    read -r _ t_s < <($PY bench/decoder_bench.py torch "$M" "$T/$set.ids.jsonl" "$THREADS" f32)
    echo "[$set] PyTorch f32: $t_s s" >&2
    bt=0; bs=1
    if [ "${BF16_TEXTS:-4}" -gt 0 ] && [ "$set" = sts ]; then
        head -n "${BF16_TEXTS:-4}" "$T/$set.ids.jsonl" > "$T/$set.ids.bf16.jsonl"
        read -r bt bs < <($PY bench/decoder_bench.py torch "$M" "$T/$set.ids.bf16.jsonl" "$THREADS" bf16)
        echo "[$set] PyTorch bf16: $bt tokens in $bs s" >&2
    fi
    $PY - "$set" "$(wc -l < "$T/$set.txt")" "$ntok" "$c_s" "$t_s" "$bt" "$bs" "$fl" "$peak" <<'PY'
import sys
s, n, ntok, cs, ts, bt, bs, fl, peak = sys.argv[1:]
ntok, cs, ts, bt, bs, fl, peak = int(ntok), float(cs), float(ts), int(bt), float(bs), float(fl), float(peak)
print("| %s (%s) | %d | %.1f | %.0f%% | %.1f | %s | %.2fx |" % (s, n, ntok, ntok / cs, 100 * fl / cs / 1e9 / peak,
      ntok / ts, "%.2f" % (bt / bs) if bt else "-", ts / cs))
PY
done
echo
echo "7B-shaped NV-Embed config (no weights) through cmteb info:"
mkdir -p "$T/nvembed-7b-shape"
cat > "$T/nvembed-7b-shape/config.json" <<'JSON'
{"architectures": ["NVEmbedModel"], "model_type": "nvembed", "hidden_size": 4096, "add_eos": true,
 "is_mask_instruction": true, "padding_side": "right", "mask_type": "b",
 "latent_attention_config": {"model_type": "latent_attention"},
 "text_config": {"model_type": "bidir_mistral", "architectures": ["MistralModel"], "hidden_size": 4096,
  "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "vocab_size": 32000,
  "max_position_embeddings": 32768, "hidden_act": "silu"}}
JSON
cp "$M/tokenizer.json" "$T/nvembed-7b-shape/"
"$CM" info --model "hf:$T/nvembed-7b-shape" | grep -E "^(decoder|latent|parameters|weights in memory|latent K/V|compute)"
