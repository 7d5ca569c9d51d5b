/*
 * glove_backend.c: `glove:PATH`, averaged word vectors as the MTEB baseline
 * average_word_embeddings_glove.6B.300d computes them (sentence-transformers
 * WordEmbeddings.from_text_file + WhitespaceTokenizer + mean Pooling):
 *
 *  - tokens = text.split() on whitespace; for each token: drop it if it is a
 *    stop word; else take it if it is in the vocabulary; else strip ASCII
 *    punctuation from both ends and try again (stop word? in vocabulary?);
 *    else lowercase it and try again; else drop it. No lowercasing first
 *    (do_lower_case False). The stop-word list is sentence-transformers'
 *    ENGLISH_STOP_WORDS (glove/stopwords.c).
 *  - the sentence vector is the float32 mean of the kept word vectors, summed
 *    in token order; no kept token gives the zero vector.
 *  - when a word occurs twice in the file, the later line wins; lines whose
 *    value count differs from the first line's are skipped (with a warning),
 *    as sentence-transformers does.
 *
 * PATH is a GloVe text file (.txt or .txt.gz). The first load converts it to a
 * binary file (PATH.cmteb.bin beside it, or under $XDG_CACHE_HOME/cmteb/glove
 * when that folder is not writable) that later loads memory-map in well under
 * a second. PATH may also name such a .cmteb.bin directly.
 *
 * Binary format, version 1 (little-endian):
 *   char magic[8] "CMTBGLV1"; uint32 version; uint32 dim; uint64 n_words;
 *   uint64 src_size; int64 src_mtime; uint64 words_bytes;
 *   char words[words_bytes] (NUL-terminated words, padded to 8 bytes);
 *   float32 vectors[n_words][dim]; uint64 checksum (cm_hash64 of the header
 *   and words).
 */
#include "engine/backend.h"
#include "engine/glove/glove.h"
#include "engine/text/unicode.h"
#include "cmteb/array.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define GLV_MAGIC "CMTBGLV1"
#define GLV_HEADER 48

struct cm_glove {
    void        *map;
    size_t       map_len;
    size_t       dim, n_words;
    const char **words;      /* (n_words) into the map */
    const float *vecs;       /* (n_words, dim) */
    /* Not a cm_strmap: its 24-byte slots (vs 4 here) made a 400k-word load +7% (0.385 -> 0.412 s). */
    uint32_t    *tab;        /* open addressing: word index + 1, 0 = empty */
    size_t       cap;
    char         name[256];
    char         fingerprint[128];
};

static size_t word_slot(const cm_glove *g, const char *w, size_t len) {
    size_t i = (size_t)cm_hash64(w, len, 7) & (g->cap - 1);
    for (;;) {
        uint32_t v = g->tab[i];
        if (!v) return i;
        const char *x = g->words[v - 1];
        if (strlen(x) == len && !memcmp(x, w, len)) return i;
        i = (i + 1) & (g->cap - 1);
    }
}

long cm_glove_lookup(const cm_glove *g, const char *w, size_t len) {
    uint32_t v = g->tab[word_slot(g, w, len)];
    return v ? (long)v - 1 : -1;
}

size_t cm_glove_dim(const cm_glove *g) { return g->dim; }
size_t cm_glove_size(const cm_glove *g) { return g->n_words; }
const float *cm_glove_vector(const cm_glove *g, size_t i) { return g->vecs + i * g->dim; }

/* ---- conversion from text ------------------------------------------------ */
typedef struct { char *data; size_t len, cap; } growbuf;

static int gb_add(growbuf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) CM_TRY(cm_array_reserve(b->data, b->cap, cm_array_first(b->len + n, 1 << 20)));
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return CM_OK;
}

static int convert_text(const char *src, const char *dst, const struct stat *st) {
    gzFile gz = gzopen(src, "rb");
    if (!gz) return cm_error(CM_ERR_IO, "%s: cannot open: %s", src, strerror(errno ? errno : ENOENT));
    gzbuffer(gz, 1 << 18);
    growbuf words = {0}, vecs = {0};
    size_t cap = 0, dim = 0, n = 0, lineno = 0, skipped = 0, first_skip = 0;
    char *line = NULL;
    float *tmp = NULL;
    int rc = cm_array_reserve(line, cap, 1 << 16);
    while (!rc) {
        size_t len = 0;
        int got = 0;
        for (;;) {
            if (cap - len < 2 && (rc = cm_array_reserve(line, cap, cap + 1)) != CM_OK) break;
            if (!gzgets(gz, line + len, (int)(cap - len))) break;
            got = 1;
            len += strlen(line + len);
            if (len && line[len - 1] == '\n') break;
        }
        if (rc || !got) break;
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ')) line[--len] = '\0';
        if (!len) continue;
        /* word = up to the first space (item_separator " ") */
        char *sp = strchr(line, ' ');
        if (!sp) { skipped++; if (!first_skip) first_skip = lineno; continue; }
        *sp = '\0';
        size_t count = 0;
        for (char *p = sp + 1; *p; p++) if (*p == ' ') count++;
        count++;
        if (dim == 0) {
            dim = count;
            tmp = cm_malloc(dim * sizeof *tmp);
            if (!tmp) { rc = CM_ERR_NOMEM; break; }
        }
        if (count != dim) { skipped++; if (!first_skip) first_skip = lineno; continue; }
        char *p = sp + 1, *end;
        for (size_t k = 0; k < dim; k++) {
            tmp[k] = strtof(p, &end);
            if (end == p) {
                rc = cm_error(CM_ERR_FORMAT, "%s:%zu: value %zu of word '%.40s' is not a number", src, lineno, k + 1,
                              line);
                break;
            }
            p = end;
        }
        if (rc) break;
        if ((rc = gb_add(&words, line, strlen(line) + 1)) || (rc = gb_add(&vecs, tmp, dim * sizeof *tmp))) break;
        n++;
    }
    int e;
    if (!rc && gzeof(gz) == 0 && gzerror(gz, &e) && e != Z_OK)
        rc = cm_error(CM_ERR_IO, "%s: read failed: %s", src, gzerror(gz, &e));
    gzclose(gz);
    free(line);
    free(tmp);
    if (!rc && n == 0) rc = cm_error(CM_ERR_FORMAT, "%s: no word vectors found (expected lines 'word v1 v2 ...')", src);
    if (!rc && skipped)
        cm_log(CM_LOG_WARN, "%s: skipped %zu line(s) whose value count differs from %zu (first: line %zu)",
                src, skipped, dim, first_skip);
    static const char zeros[8] = {0};
    if (!rc && words.len % 8) rc = gb_add(&words, zeros, 8 - words.len % 8);
    if (!rc) {
        size_t total = GLV_HEADER + words.len + vecs.len + 8;
        unsigned char *buf = cm_malloc(total);
        if (!buf) rc = CM_ERR_NOMEM;
        else {
            uint32_t ver = 1, d32 = (uint32_t)dim;
            uint64_t nw = n, ssz = (uint64_t)st->st_size, wb = words.len;
            int64_t mt = (int64_t)st->st_mtime;
            memcpy(buf, GLV_MAGIC, 8);
            memcpy(buf + 8, &ver, 4);
            memcpy(buf + 12, &d32, 4);
            memcpy(buf + 16, &nw, 8);
            memcpy(buf + 24, &ssz, 8);
            memcpy(buf + 32, &mt, 8);
            memcpy(buf + 40, &wb, 8);
            memcpy(buf + GLV_HEADER, words.data, words.len);
            memcpy(buf + GLV_HEADER + words.len, vecs.data, vecs.len);
            uint64_t sum = cm_hash64(buf, GLV_HEADER + words.len, 0);
            memcpy(buf + total - 8, &sum, 8);
            rc = cm_write_file_atomic(dst, buf, total);
            free(buf);
        }
    }
    free(words.data);
    free(vecs.data);
    return rc;
}

/* ---- loading the binary --------------------------------------------------- */
static int map_binary(cm_glove *g, const char *path, const struct stat *src_st, int *stale) {
    *stale = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) { *stale = 1; return CM_OK; }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < GLV_HEADER + 8) { close(fd); *stale = 1; return CM_OK; }
    g->map_len = (size_t)st.st_size;
    g->map = mmap(NULL, g->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (g->map == MAP_FAILED) {
        g->map = NULL;
        return cm_error(CM_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    }
    const unsigned char *p = g->map;
    uint32_t ver, d32;
    uint64_t nw, ssz, wb, sum;
    int64_t mt;
    memcpy(&ver, p + 8, 4);
    memcpy(&d32, p + 12, 4);
    memcpy(&nw, p + 16, 8);
    memcpy(&ssz, p + 24, 8);
    memcpy(&mt, p + 32, 8);
    memcpy(&wb, p + 40, 8);
    int ok = !memcmp(p, GLV_MAGIC, 8) && ver == 1 && d32 > 0 && wb % 8 == 0 &&
             GLV_HEADER + wb + nw * d32 * 4 + 8 == g->map_len;
    if (ok) { memcpy(&sum, p + g->map_len - 8, 8); ok = sum == cm_hash64(p, GLV_HEADER + wb, 0); }
    if (ok && src_st) ok = ssz == (uint64_t)src_st->st_size && mt == (int64_t)src_st->st_mtime;
    if (!ok) {
        munmap(g->map, g->map_len);
        g->map = NULL;
        if (!src_st)
            return cm_error(CM_ERR_FORMAT, "%s: not a valid cmteb GloVe binary (bad magic, size or checksum)", path);
        *stale = 1;
        return CM_OK;
    }
    g->dim = d32;
    g->n_words = nw;
    g->vecs = (const float *)(p + GLV_HEADER + wb);
    g->words = cm_malloc((nw ? nw : 1) * sizeof *g->words);
    g->cap = 16;
    while (g->cap < 2 * nw) g->cap <<= 1;
    g->tab = cm_calloc(g->cap, sizeof *g->tab);
    if (!g->words || !g->tab) return CM_ERR_NOMEM;
    const char *w = (const char *)(p + GLV_HEADER);
    for (size_t i = 0; i < nw; i++) {
        g->words[i] = w;
        size_t len = strlen(w);
        g->tab[word_slot(g, w, len)] = (uint32_t)(i + 1); /* a later duplicate wins */
        w += len + 1;
    }
    return CM_OK;
}

static int ends_with(const char *s, const char *x) {
    size_t a = strlen(s), b = strlen(x);
    return a >= b && !strcmp(s + a - b, x);
}

int cm_glove_load(cm_glove **out, const char *path, int quiet) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return cm_error(CM_ERR_NOTFOUND, "%s: GloVe file not found", path);
    cm_glove *g = cm_calloc(1, sizeof *g);
    if (!g) return CM_ERR_NOMEM;
    int rc, stale = 0;
    if (ends_with(path, ".cmteb.bin")) {
        rc = map_binary(g, path, NULL, &stale);
        if (!rc && stale) rc = cm_error(CM_ERR_FORMAT, "%s: cannot read", path);
    } else {
        char *bin = cm_asprintf("%s.cmteb.bin", path);
        char *alt = NULL;
        if (!bin) { cm_glove_free(g); return CM_ERR_NOMEM; }
        rc = map_binary(g, bin, &st, &stale);
        if (!rc && stale) {
            const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
            char hex[17];
            cm_hex64(cm_hash64(path, strlen(path), 3), hex);
            char *cdir = xdg && *xdg ? cm_asprintf("%s/cmteb/glove", xdg)
                                     : cm_asprintf("%s/.cache/cmteb/glove", home ? home : "/tmp");
            alt = cdir ? cm_asprintf("%s/%s.cmteb.bin", cdir, hex) : NULL;
            if (alt) rc = map_binary(g, alt, &st, &stale);
            if (!rc && stale) {
                if (!quiet) cm_log(CM_LOG_INFO, "cmteb: converting %s to a binary cache (once)", path);
                double t0 = cm_now();
                const char *target = bin;
                rc = convert_text(path, bin, &st);
                if (rc == CM_ERR_IO && alt && cdir && !cm_mkdir_p(cdir)) {
                    target = alt;
                    rc = convert_text(path, alt, &st);
                }
                if (!rc) rc = map_binary(g, target, &st, &stale);
                if (!rc && stale) rc = cm_error(CM_ERR_IO, "%s: binary cache unreadable after writing", target);
                if (!rc && !quiet)
                    cm_log(CM_LOG_INFO, "cmteb: converted %zu words in %.1fs -> %s", g->n_words, cm_now() - t0, target);
            }
            free(cdir);
        }
        free(bin);
        free(alt);
    }
    if (rc) { cm_glove_free(g); return rc; }
    const char *base = cm_path_basename(path);
    size_t bl = strlen(base);
    static const char *const suffixes[] = {".cmteb.bin", ".gz", ".txt", NULL};
    char stem[200];
    snprintf(stem, sizeof stem, "%.*s", (int)(bl < 199 ? bl : 199), base);
    for (int i = 0; suffixes[i]; i++)
        if (ends_with(stem, suffixes[i])) stem[strlen(stem) - strlen(suffixes[i])] = '\0';
    snprintf(g->name, sizeof g->name, "glove/%s", stem);
    char hex[17];
    cm_hex64(
        cm_hash64(g->vecs,
                  g->n_words * g->dim * sizeof(float) < (1 << 22) ? g->n_words * g->dim * sizeof(float) : (1 << 22),
                  11) ^
            (uint64_t)g->n_words * 31 ^ g->dim,
        hex);
    snprintf(g->fingerprint, sizeof g->fingerprint, "glove-v1-%zu-%zu-%s", g->n_words, g->dim, hex);
    *out = g;
    return CM_OK;
}

void cm_glove_free(cm_glove *g) {
    if (!g) return;
    if (g->map) munmap(g->map, g->map_len);
    free(g->words);
    free(g->tab);
    free(g);
}

/* ---- tokenisation and pooling --------------------------------------------- */
static int is_ascii_punct(unsigned char c) { return c < 128 && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) && c; }

/* Python's str.split() whitespace (str.isspace: White_Space plus the
 * separators U+001C..U+001F): the byte length of such a character at s, or 0. */
static size_t ws_len(const char *s, size_t n) {
    uint32_t cp;
    size_t k = cm_utf8_decode(s, n, &cp);
    if (cp == 0xFFFFFFFFu) return 0;
    return cm_u_is_whitespace(cp) || (cp >= 0x1c && cp <= 0x1f) ? k : 0;
}

long cm_glove_token(const cm_glove *g, const char *tok, size_t len, char *scratch) {
    if (cm_glove_is_stopword(tok, len)) return -1;
    long id = cm_glove_lookup(g, tok, len);
    if (id >= 0) return id;
    size_t a = 0, b = len;
    while (a < b && is_ascii_punct((unsigned char)tok[a])) a++;
    while (b > a && is_ascii_punct((unsigned char)tok[b - 1])) b--;
    if (cm_glove_is_stopword(tok + a, b - a)) return -1;
    if (b > a && (id = cm_glove_lookup(g, tok + a, b - a)) >= 0) return id;
    size_t ll = cm_utf8_lower(tok + a, b - a, scratch);
    if (cm_glove_is_stopword(scratch, ll)) return -1;
    return cm_glove_lookup(g, scratch, ll);
}

int cm_glove_embed(const cm_glove *g, const char *text, float *out) {
    size_t len = strlen(text), d = g->dim;
    char *scratch = cm_malloc(3 * len + 8);
    if (!scratch) return CM_ERR_NOMEM;
    memset(out, 0, d * sizeof *out);
    size_t count = 0;
    size_t i = 0;
    while (i < len) {
        size_t w;
        while (i < len && (w = ws_len(text + i, len - i))) i += w;
        size_t start = i;
        while (i < len && !ws_len(text + i, len - i)) i += cm_utf8_decode(text + i, len - i, &(uint32_t){0});
        if (i == start) break;
        long id = cm_glove_token(g, text + start, i - start, scratch);
        if (id < 0) continue;
        const float *v = g->vecs + (size_t)id * d;
        for (size_t k = 0; k < d; k++) out[k] += v[k];
        count++;
    }
    free(scratch);
    if (count) {
        float c = (float)count;
        for (size_t k = 0; k < d; k++) out[k] /= c;
    }
    return CM_OK;
}

/* ---- backend -------------------------------------------------------------- */
static int be_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    if (!arg || !*arg) return cm_error(CM_ERR_ARG, "glove:PATH needs the path of a GloVe text file");
    cm_glove *g;
    CM_TRY(cm_glove_load(&g, arg, params ? params->quiet : 0));
    if (params && params->model_name) snprintf(g->name, sizeof g->name, "%s", params->model_name);
    info->name = g->name;
    info->revision = "no_revision_available";
    info->loader = "glove";
    info->fingerprint = g->fingerprint;
    info->dim = g->dim;
    info->max_tokens = -1;
    info->n_parameters = (int64_t)(g->n_words * g->dim);
    info->uses_instructions = 0;
    *state = g;
    return CM_OK;
}

static int be_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                     float *out) {
    (void)role;
    (void)instruction;
    const cm_glove *g = state;
    int rc = CM_OK;
#pragma omp parallel for schedule(dynamic, 64)
    for (size_t i = 0; i < n; i++) {
        int r = cm_glove_embed(g, texts[i], out + i * g->dim);
        if (r) {
#pragma omp critical
            rc = r;
        }
    }
    return rc;
}

static void be_free(void *state) { cm_glove_free(state); }

const cm_backend_i cm_backend_glove = {
    .scheme = "glove",
    .usage = "glove:PATH          averaged GloVe vectors (sentence-transformers WordEmbeddings semantics)",
    .supported = 0,   /* no encoder options: averaged word vectors */
    .init = be_init, .encode = be_encode, .free = be_free,
};
