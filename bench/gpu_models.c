/*
 * gpu_models.c: writes random-weight model folders for bench/gpu_check.sh
 * (nothing is downloaded; plain C, no dependency) and counts their FLOPs.
 *
 *   gpu_models write SHAPE DIR TOKENIZER_JSON   config.json + model.safetensors (BF16) + tokenizer.json
 *   gpu_models flops SHAPE LEN                  model FLOPs per token at sequence length LEN (one line)
 *   gpu_models bytes SHAPE                      bytes of model.safetensors' data (BF16 weights; one line)
 *   gpu_models cmp A.npy B.npy                  float32 (n, d) matrices: "max_rel R min_cos C rows N"
 *
 * SHAPE: bge-small (BertModel, 384 hidden, 12 layers, 12 heads, 1536 ff),
 * bert-base (768/12/12/3072), nvembed-7b (Mistral-7B: 4096 hidden, 32
 * layers, 32 heads, 8 kv heads, 14336 ff, vocab 32000, + NV-Embed latent
 * attention: 512 latents, 8 heads of 512); SHAPE:N takes N layers instead
 * (e.g. nvembed-7b:8 when the disk or the time cannot hold all 32; `flops`
 * counts the same N). Weights: uniform with std 0.02 on 65536 levels (norm
 * weights 1, biases 0); element e of the data is a function of e alone (a
 * hash), so the file is the same whatever the thread count. The data is
 * written by one thread per core (pwrite of 2 MB chunks): the 14.5 GB of
 * nvembed-7b are bound by the disk, not the generator.
 *
 * FLOPs: 2 * (parameters in matmuls) per token, plus attention (QK^T and PV:
 * 4 * LEN * heads * head_dim per token per layer, bidirectional), plus for
 * NV-Embed the latent layer per token (to_q, to_out, GEGLU in/out, and the
 * attention over 512 latents). Embedding gathers, norms and the BERT pooler
 * are not counted.
 */
#define _GNU_SOURCE   /* pwrite, sysconf */
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* NAME or NAME:LAYERS -> a copy in *out (static storage: one shape per run); NULL with a message when unknown. */
static const shape *find_shape(const char *name) {
    static shape out;
    size_t len = strcspn(name, ":");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (strlen(shapes[i].name) != len || strncmp(shapes[i].name, name, len)) continue;
        out = shapes[i];
        if (name[len] == ':') {
            char *end;
            long n = strtol(name + len + 1, &end, 10);
            if (*end || n < 1 || n > shapes[i].layers) {
                fprintf(stderr, "gpu_models: '%s': layers must be 1..%ld\n", name, shapes[i].layers);
                return NULL;
            }
            out.layers = n;
        }
        return &out;
    }
    fprintf(stderr, "gpu_models: unknown shape '%s' (bge-small, bert-base, nvembed-7b, optionally :LAYERS)\n", name);
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

/* float -> bf16 bits (round to nearest even). */
static uint16_t bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u += 0x7FFF + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

/* splitmix64's finaliser: element e's 64 random bits. */
static inline uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

enum { CHUNK = 1 << 20 };   /* elements per pwrite (2 MB) */

typedef struct writer {
    const tlist    *l;
    const uint64_t *first;   /* (n + 1) element index where tensor i starts; first[n] = total */
    uint16_t        lut[65536], one, zero;
    int             fd;
    uint64_t        base;    /* file offset of element 0 */
    atomic_ulong    next;    /* next chunk to write */
    atomic_int      failed;
} writer;

/* One thread: takes chunks in turn, fills them (tensor by tensor) and writes them at their offsets. */
static void *write_chunks(void *arg) {
    writer *w = arg;
    uint64_t total = w->first[w->l->n];
    uint16_t *buf = malloc(CHUNK * sizeof *buf);
    if (!buf) { atomic_store(&w->failed, 1); return NULL; }
    size_t t = 0;
    for (;;) {
        uint64_t c0 = (uint64_t)atomic_fetch_add(&w->next, 1) * CHUNK;
        if (c0 >= total || atomic_load(&w->failed)) break;
        uint64_t c1 = c0 + CHUNK < total ? c0 + CHUNK : total;
        while (t > 0 && w->first[t] > c0) t--;   /* chunks come in increasing order per thread */
        while (w->first[t + 1] <= c0) t++;
        for (uint64_t e = c0; e < c1;) {
            uint64_t end = w->first[t + 1] < c1 ? w->first[t + 1] : c1;
            int init = w->l->t[t].init;
            uint16_t *o = buf + (e - c0);
            if (init == INIT_RANDOM)
                for (uint64_t k = e; k < end; k++) *o++ = w->lut[mix(k) >> 48];
            else
                for (uint64_t k = e; k < end; k++) *o++ = init == INIT_ONE ? w->one : w->zero;
            e = end;
            if (e == w->first[t + 1]) t++;
        }
        size_t bytes = (size_t)(c1 - c0) * 2, done = 0;
        while (done < bytes) {
            ssize_t k = pwrite(w->fd, (char *)buf + done, bytes - done, (off_t)(w->base + 2 * c0 + done));
            if (k <= 0) { atomic_store(&w->failed, 1); break; }
            done += (size_t)k;
        }
    }
    free(buf);
    return NULL;
}

static int write_weights(const char *path, const tlist *l) {
    /* header: {"NAME": {"dtype": "BF16", "shape": [...], "data_offsets": [a, b]}, ...} */
    size_t cap = 256 + l->n * 256, len = 0;
    char *hdr = malloc(cap);
    uint64_t *first = malloc((l->n + 1) * sizeof *first);
    writer *w = calloc(1, sizeof *w);
    if (!hdr || !first || !w) { free(hdr); free(first); free(w); return -1; }
    len += (size_t)snprintf(hdr + len, cap - len, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (size_t i = 0; i < l->n; i++) {
        const tensor *t = &l->t[i];
        uint64_t elems = (uint64_t)t->shape[0] * (uint64_t)(t->ndim == 2 ? t->shape[1] : 1), bytes = 2 * elems;
        first[i] = off / 2;
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
    first[l->n] = off / 2;
    len += (size_t)snprintf(hdr + len, cap - len, "}");
    while (len % 8) hdr[len++] = ' ';   /* 8-byte aligned data */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror(path); free(hdr); free(first); free(w); return -1; }
    uint64_t hl = len;
    int ok = pwrite(fd, &hl, 8, 0) == 8 && pwrite(fd, hdr, len, 8) == (ssize_t)len;
    free(hdr);
    const float a = 0.02f * sqrtf(3.0f);   /* uniform(-a, a): std 0.02 */
    for (int u = 0; u < 65536; u++) w->lut[u] = bf16(a * (2.0f * ((float)u + 0.5f) / 65536.0f - 1.0f));
    w->one = bf16(1.0f);
    w->zero = bf16(0.0f);
    w->l = l;
    w->first = first;
    w->fd = fd;
    w->base = 8 + hl;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = ncpu < 1 ? 1 : ncpu > 32 ? 32 : (int)ncpu;
    pthread_t th[32];
    int started = 0;
    for (; ok && started < nt; started++)
        if (pthread_create(&th[started], NULL, write_chunks, w) != 0) break;
    if (ok && started == 0) write_chunks(w);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    if (atomic_load(&w->failed)) ok = 0;
    if (close(fd) != 0) ok = 0;
    free(first);
    free(w);
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
    if (argc == 3 && !strcmp(argv[1], "bytes")) {
        const shape *s = find_shape(argv[2]);
        if (!s) return 1;
        tlist l = {0};
        if (s->decoder) nvembed_tensors(s, &l);
        else bert_tensors(s, &l);
        uint64_t bytes = 0;
        for (size_t i = 0; i < l.n; i++)
            bytes += 2 * (uint64_t)l.t[i].shape[0] * (uint64_t)(l.t[i].ndim == 2 ? l.t[i].shape[1] : 1);
        free(l.t);
        printf("%" PRIu64 "\n", bytes);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "flops")) {
        const shape *s = find_shape(argv[2]);
        if (!s) return 1;
        printf("%.6e\n", flops_per_token(s, atof(argv[3])));
        return 0;
    }
    fprintf(stderr, "usage: gpu_models write SHAPE DIR TOKENIZER_JSON | gpu_models flops SHAPE LEN | "
                    "gpu_models bytes SHAPE | gpu_models cmp A.npy B.npy\n"
                    "shapes: bge-small, bert-base, nvembed-7b\n");
    return 2;
}
