/*
 * gpu_models.c: writes random-weight model folders for bench/gpu_check.sh
 * (nothing is downloaded; plain C, no dependency) and counts their FLOPs.
 *
 *   gpu_models write SHAPE DIR TOKENIZER_JSON   config.json + model.safetensors (BF16) + tokenizer.json
 *   gpu_models flops SHAPE LEN                  model FLOPs per token at sequence length LEN (one line)
 *   gpu_models cmp A.npy B.npy                  float32 (n, d) matrices: "max_rel R min_cos C rows N"
 *
 * SHAPE: bge-small (BertModel, 384 hidden, 12 layers, 12 heads, 1536 ff),
 * bert-base (768/12/12/3072), nvembed-7b (Mistral-7B: 4096 hidden, 32
 * layers, 32 heads, 8 kv heads, 14336 ff, vocab 32000, + NV-Embed latent
 * attention: 512 latents, 8 heads of 512). Weights: uniform with std 0.02
 * (norm weights 1, biases 0), from a fixed seed.
 *
 * FLOPs: 2 * (parameters in matmuls) per token, plus attention (QK^T and PV:
 * 4 * LEN * heads * head_dim per token per layer, bidirectional), plus for
 * NV-Embed the latent layer per token (to_q, to_out, GEGLU in/out, and the
 * attention over 512 latents). Embedding gathers, norms and the BERT pooler
 * are not counted.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct shape {
    const char *name;
    int         decoder;   /* 0 BERT, 1 NV-Embed (Mistral) */
    long        hidden, layers, heads, kv_heads, ff, vocab, positions;
    long        latents, lat_heads, lat_head_dim;
} shape;

static const shape shapes[] = {
    {"bge-small", 0, 384, 12, 12, 12, 1536, 30522, 512, 0, 0, 0},
    {"bert-base", 0, 768, 12, 12, 12, 3072, 30522, 512, 0, 0, 0},
    {"nvembed-7b", 1, 4096, 32, 32, 8, 14336, 32000, 32768, 512, 8, 512},
};

static const shape *find_shape(const char *name) {
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (!strcmp(shapes[i].name, name)) return &shapes[i];
    fprintf(stderr, "gpu_models: unknown shape '%s' (bge-small, bert-base, nvembed-7b)\n", name);
    return NULL;
}

/* ---- tensors ------------------------------------------------------------ */

enum { INIT_RANDOM, INIT_ONE, INIT_ZERO };

typedef struct tensor {
    char name[128];
    long shape[2];
    int  ndim, init;
} tensor;

typedef struct tlist {
    tensor *t;
    size_t  n, cap;
} tlist;

static void add(tlist *l, int init, long a, long b, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add(tlist *l, int init, long a, long b, const char *fmt, ...) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->t = realloc(l->t, l->cap * sizeof *l->t);
        if (!l->t) { perror("gpu_models"); exit(1); }
    }
    tensor *t = &l->t[l->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->shape[0] = a;
    t->shape[1] = b;
    t->ndim = b ? 2 : 1;
    t->init = init;
}

static void bert_tensors(const shape *s, tlist *l) {
    long h = s->hidden, f = s->ff;
    add(l, INIT_RANDOM, s->vocab, h, "embeddings.word_embeddings.weight");
    add(l, INIT_RANDOM, s->positions, h, "embeddings.position_embeddings.weight");
    add(l, INIT_RANDOM, 2, h, "embeddings.token_type_embeddings.weight");
    add(l, INIT_ONE, h, 0, "embeddings.LayerNorm.weight");
    add(l, INIT_ZERO, h, 0, "embeddings.LayerNorm.bias");
    for (long i = 0; i < s->layers; i++) {
        const char *qkv[3] = {"query", "key", "value"};
        for (int k = 0; k < 3; k++) {
            add(l, INIT_RANDOM, h, h, "encoder.layer.%ld.attention.self.%s.weight", i, qkv[k]);
            add(l, INIT_ZERO, h, 0, "encoder.layer.%ld.attention.self.%s.bias", i, qkv[k]);
        }
        add(l, INIT_RANDOM, h, h, "encoder.layer.%ld.attention.output.dense.weight", i);
        add(l, INIT_ZERO, h, 0, "encoder.layer.%ld.attention.output.dense.bias", i);
        add(l, INIT_ONE, h, 0, "encoder.layer.%ld.attention.output.LayerNorm.weight", i);
        add(l, INIT_ZERO, h, 0, "encoder.layer.%ld.attention.output.LayerNorm.bias", i);
        add(l, INIT_RANDOM, f, h, "encoder.layer.%ld.intermediate.dense.weight", i);
        add(l, INIT_ZERO, f, 0, "encoder.layer.%ld.intermediate.dense.bias", i);
        add(l, INIT_RANDOM, h, f, "encoder.layer.%ld.output.dense.weight", i);
        add(l, INIT_ZERO, h, 0, "encoder.layer.%ld.output.dense.bias", i);
        add(l, INIT_ONE, h, 0, "encoder.layer.%ld.output.LayerNorm.weight", i);
        add(l, INIT_ZERO, h, 0, "encoder.layer.%ld.output.LayerNorm.bias", i);
    }
    add(l, INIT_RANDOM, h, h, "pooler.dense.weight");
    add(l, INIT_ZERO, h, 0, "pooler.dense.bias");
}

static void nvembed_tensors(const shape *s, tlist *l) {
    long h = s->hidden, f = s->ff, hd = h / s->heads, kv = s->kv_heads * hd;
    long inner = s->lat_heads * s->lat_head_dim, lff = 4 * h;
    add(l, INIT_RANDOM, s->vocab, h, "embedding_model.embed_tokens.weight");
    for (long i = 0; i < s->layers; i++) {
        add(l, INIT_ONE, h, 0, "embedding_model.layers.%ld.input_layernorm.weight", i);
        add(l, INIT_ONE, h, 0, "embedding_model.layers.%ld.post_attention_layernorm.weight", i);
        add(l, INIT_RANDOM, h, h, "embedding_model.layers.%ld.self_attn.q_proj.weight", i);
        add(l, INIT_RANDOM, kv, h, "embedding_model.layers.%ld.self_attn.k_proj.weight", i);
        add(l, INIT_RANDOM, kv, h, "embedding_model.layers.%ld.self_attn.v_proj.weight", i);
        add(l, INIT_RANDOM, h, h, "embedding_model.layers.%ld.self_attn.o_proj.weight", i);
        add(l, INIT_RANDOM, f, h, "embedding_model.layers.%ld.mlp.gate_proj.weight", i);
        add(l, INIT_RANDOM, f, h, "embedding_model.layers.%ld.mlp.up_proj.weight", i);
        add(l, INIT_RANDOM, h, f, "embedding_model.layers.%ld.mlp.down_proj.weight", i);
    }
    add(l, INIT_ONE, h, 0, "embedding_model.norm.weight");
    const char *lp = "latent_attention_model.";
    add(l, INIT_RANDOM, s->latents, h, "%slatents", lp);
    add(l, INIT_ONE, h, 0, "%scross_attend_blocks.0.norm.weight", lp);
    add(l, INIT_ZERO, h, 0, "%scross_attend_blocks.0.norm.bias", lp);
    add(l, INIT_ONE, h, 0, "%scross_attend_blocks.0.norm_context.weight", lp);
    add(l, INIT_ZERO, h, 0, "%scross_attend_blocks.0.norm_context.bias", lp);
    add(l, INIT_RANDOM, inner, h, "%scross_attend_blocks.0.fn.to_q.weight", lp);
    add(l, INIT_RANDOM, 2 * inner, h, "%scross_attend_blocks.0.fn.to_kv.weight", lp);
    add(l, INIT_RANDOM, h, inner, "%scross_attend_blocks.0.fn.to_out.weight", lp);
    add(l, INIT_ONE, h, 0, "%scross_attend_blocks.1.norm.weight", lp);
    add(l, INIT_ZERO, h, 0, "%scross_attend_blocks.1.norm.bias", lp);
    add(l, INIT_RANDOM, 2 * lff, h, "%scross_attend_blocks.1.fn.net.0.weight", lp);
    add(l, INIT_ZERO, 2 * lff, 0, "%scross_attend_blocks.1.fn.net.0.bias", lp);
    add(l, INIT_RANDOM, h, lff, "%scross_attend_blocks.1.fn.net.2.weight", lp);
    add(l, INIT_ZERO, h, 0, "%scross_attend_blocks.1.fn.net.2.bias", lp);
}

/* ---- writing ------------------------------------------------------------ */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static inline uint64_t next(void) {   /* xorshift64* */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

/* float -> bf16 bits (round to nearest even). */
static uint16_t bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7FFF + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static int write_weights(const char *path, const tlist *l) {
    /* header: {"NAME": {"dtype": "BF16", "shape": [...], "data_offsets": [a, b]}, ...} */
    size_t cap = 256 + l->n * 256, len = 0;
    char *hdr = malloc(cap);
    if (!hdr) return -1;
    len += (size_t)snprintf(hdr + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (size_t i = 0; i < l->n; i++) {
        const tensor *t = &l->t[i];
        uint64_t bytes = 2 * (uint64_t)t->shape[0] * (uint64_t)(t->ndim == 2 ? t->shape[1] : 1);
        if (t->ndim == 2)
            len += (size_t)snprintf(hdr + len, cap - len, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[%ld,%ld],"
                                    "\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", t->name, t->shape[0], t->shape[1],
                                    off, off + bytes);
        else
            len += (size_t)snprintf(hdr + len, cap - len, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[%ld],"
                                    "\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", t->name, t->shape[0], off,
                                    off + bytes);
        off += bytes;
    }
    len += (size_t)snprintf(hdr + len, cap - len, "}");
    while (len % 8) hdr[len++] = ' ';   /* 8-byte aligned data */
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); free(hdr); return -1; }
    uint64_t hl = len;
    int ok = fwrite(&hl, 8, 1, f) == 1 && fwrite(hdr, 1, len, f) == len;
    free(hdr);
    enum { CHUNK = 1 << 20 };
    uint16_t *buf = malloc(CHUNK * sizeof *buf);
    if (!buf) { fclose(f); return -1; }
    const float a = 0.02f * sqrtf(3.0f);   /* uniform(-a, a): std 0.02 */
    for (size_t i = 0; ok && i < l->n; i++) {
        const tensor *t = &l->t[i];
        uint64_t n = (uint64_t)t->shape[0] * (uint64_t)(t->ndim == 2 ? t->shape[1] : 1);
        while (ok && n) {
            size_t k = n < CHUNK ? (size_t)n : CHUNK;
            for (size_t j = 0; j < k; j++) {
                float v = t->init == INIT_ONE ? 1.0f : 0.0f;
                if (t->init == INIT_RANDOM) v = a * (2.0f * (float)(next() >> 40) / 16777216.0f - 1.0f);
                buf[j] = bf16(v);
            }
            ok = fwrite(buf, 2, k, f) == k;
            n -= k;
        }
    }
    free(buf);
    if (fclose(f) != 0) ok = 0;
    if (!ok) fprintf(stderr, "gpu_models: writing %s failed\n", path);
    return ok ? 0 : -1;
}

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return -1; }
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wb") : NULL;
    if (!a || !b) { perror(a ? to : from); if (a) fclose(a); return -1; }
    char buf[65536];
    size_t k;
    int ok = 1;
    while (ok && (k = fread(buf, 1, sizeof buf, a)) > 0) ok = fwrite(buf, 1, k, b) == k;
    fclose(a);
    return fclose(b) == 0 && ok ? 0 : -1;
}

static int cmd_write(const shape *s, const char *dir, const char *tok) {
    char path[4096], cfg[4096];
    tlist l = {0};
    if (s->decoder) {
        nvembed_tensors(s, &l);
        snprintf(cfg, sizeof cfg,
                 "{\"architectures\": [\"NVEmbedModel\"], \"model_type\": \"nvembed\", \"hidden_size\": %ld,\n"
                 " \"_name_or_path\": \"cmteb-bench/%s\", \"is_mask_instruction\": true, \"add_eos\": true,\n"
                 " \"latent_attention_config\": {\"model_type\": \"latent_attention\", \"num_latents_value\": %ld,\n"
                 "   \"num_cross_heads\": %ld, \"hidden_dim\": %ld, \"latent_dim\": %ld, \"cross_dim_head\": %ld,\n"
                 "   \"output_normalize\": true},\n"
                 " \"text_config\": {\"model_type\": \"bidir_mistral\", \"architectures\": [\"MistralModel\"],\n"
                 "   \"hidden_size\": %ld, \"num_hidden_layers\": %ld, \"num_attention_heads\": %ld,\n"
                 "   \"num_key_value_heads\": %ld, \"intermediate_size\": %ld, \"vocab_size\": %ld,\n"
                 "   \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"sliding_window\": 4096, \"hidden_act\": \"silu\",\n"
                 "   \"max_position_embeddings\": %ld, \"bos_token_id\": 1, \"eos_token_id\": 2,\n"
                 "   \"torch_dtype\": \"bfloat16\"},\n"
                 " \"torch_dtype\": \"bfloat16\"}\n",
                 s->hidden, s->name, s->latents, s->lat_heads, s->hidden, s->hidden, s->lat_head_dim, s->hidden,
                 s->layers, s->heads, s->kv_heads, s->ff, s->vocab, s->positions);
    } else {
        bert_tensors(s, &l);
        snprintf(cfg, sizeof cfg,
                 "{\"architectures\": [\"BertModel\"], \"model_type\": \"bert\", \"vocab_size\": %ld,\n"
                 " \"hidden_size\": %ld, \"num_hidden_layers\": %ld, \"num_attention_heads\": %ld,\n"
                 " \"intermediate_size\": %ld, \"max_position_embeddings\": %ld, \"hidden_act\": \"gelu\",\n"
                 " \"layer_norm_eps\": 1e-12, \"pad_token_id\": 0, \"type_vocab_size\": 2,\n"
                 " \"_name_or_path\": \"cmteb-bench/%s\", \"torch_dtype\": \"bfloat16\"}\n",
                 s->vocab, s->hidden, s->layers, s->heads, s->ff, s->positions, s->name);
    }
    int rc = 0;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!rc) rc = write_text(path, cfg);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (!rc) rc = copy_file(tok, path);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!rc) rc = write_weights(path, &l);
    free(l.t);
    return rc;
}

/* Model FLOPs per token at sequence length len (see the file comment). */
static double flops_per_token(const shape *s, double len) {
    double h = (double)s->hidden, f = (double)s->ff, L = (double)s->layers;
    double hd = h / (double)s->heads, kv = (double)s->kv_heads * hd;
    double mm = s->decoder ? L * (h * h + 2 * kv * h + h * h + 3 * f * h) : L * (4 * h * h + 2 * f * h);
    double attn = L * 4.0 * len * h;
    double lat = 0;
    if (s->decoder) {
        double inner = (double)(s->lat_heads * s->lat_head_dim), ff = 4 * h;
        lat = 2.0 * (inner * h + h * inner + 2 * ff * h + ff * h) + 4.0 * (double)s->latents * inner;
    }
    return 2.0 * mm + attn + lat;
}

/* Reads a float32 C-order 2-D .npy (as cmteb embed writes it): *rows x *cols values, caller frees. */
static float *read_npy(const char *path, long *rows, long *cols) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return NULL; }
    unsigned char pre[10];
    char hdr[4096];
    float *v = NULL;
    if (fread(pre, 1, 10, f) == 10 && !memcmp(pre, "\x93NUMPY", 6)) {
        size_t hl = (size_t)pre[8] | (size_t)pre[9] << 8;
        if (hl < sizeof hdr && fread(hdr, 1, hl, f) == hl) {
            hdr[hl] = 0;
            const char *sh = strstr(hdr, "'shape': (");
            if (strstr(hdr, "'<f4'") && sh && sscanf(sh, "'shape': (%ld, %ld)", rows, cols) == 2 && *rows >= 0 &&
                *cols > 0) {
                size_t n = (size_t)*rows * (size_t)*cols;
                v = malloc((n ? n : 1) * sizeof *v);
                if (v && fread(v, sizeof *v, n, f) != n) { free(v); v = NULL; }
            }
        }
    }
    fclose(f);
    if (!v) fprintf(stderr, "gpu_models: %s: not a float32 (n, d) .npy\n", path);
    return v;
}

/* Worst relative difference (|a-b|_inf / |a|_inf per row) and lowest cosine over the rows of two matrices. */
static int cmd_cmp(const char *pa, const char *pb) {
    long ra, ca, rb, cb;
    float *a = read_npy(pa, &ra, &ca), *b = a ? read_npy(pb, &rb, &cb) : NULL;
    if (!a || !b || ra != rb || ca != cb) {
        if (a && b) fprintf(stderr, "gpu_models: shapes differ: (%ld, %ld) vs (%ld, %ld)\n", ra, ca, rb, cb);
        free(a);
        free(b);
        return 1;
    }
    double max_rel = 0, min_cos = 1;
    for (long i = 0; i < ra; i++) {
        double dot = 0, na = 0, nb = 0, dmax = 0, amax = 0;
        for (long j = 0; j < ca; j++) {
            double x = a[i * ca + j], y = b[i * ca + j];
            dot += x * y, na += x * x, nb += y * y;
            if (fabs(x - y) > dmax) dmax = fabs(x - y);
            if (fabs(x) > amax) amax = fabs(x);
        }
        double rel = amax > 0 ? dmax / amax : dmax, cs = na > 0 && nb > 0 ? dot / sqrt(na * nb) : (na == nb);
        if (rel > max_rel || rel != rel) max_rel = rel;
        if (cs < min_cos || cs != cs) min_cos = cs;
    }
    printf("max_rel %.3e min_cos %.6f rows %ld\n", max_rel, min_cos, ra);
    free(a);
    free(b);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "cmp")) return cmd_cmp(argv[2], argv[3]);
    if (argc == 5 && !strcmp(argv[1], "write")) {
        const shape *s = find_shape(argv[2]);
        return s && cmd_write(s, argv[3], argv[4]) == 0 ? 0 : 1;
    }
    if (argc == 4 && !strcmp(argv[1], "flops")) {
        const shape *s = find_shape(argv[2]);
        if (!s) return 1;
        printf("%.6e\n", flops_per_token(s, atof(argv[3])));
        return 0;
    }
    fprintf(stderr, "usage: gpu_models write SHAPE DIR TOKENIZER_JSON | gpu_models flops SHAPE LEN | "
                    "gpu_models cmp A.npy B.npy\n"
                    "shapes: bge-small, bert-base, nvembed-7b\n");
    return 2;
}
