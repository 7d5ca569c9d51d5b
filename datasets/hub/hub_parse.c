/*
 * hub_parse.c: the small parsers of the hub client (see hub_int.h): percent-
 * encoding, Link and Retry-After headers, ETags, globs over listing paths,
 * the token from the environment, and file digests (OpenSSL's libcrypto).
 */
#include "datasets/hub/hub_int.h"
#include "cmteb/lazylib.h"
#include "cmteb/status.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *hub_percent_encode(const char *s, int keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = cm_malloc(3 * n + 1), *o = out;
    if (!out) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' || (keep_slash && *p == '/')) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

char *hub_link_next(const char *h) {
    /* link-value = "<" URI ">" *( ";" param ); values separated by ',' (a URI holds no '>') */
    const char *p = h;
    while (p && *p) {
        const char *lt = strchr(p, '<');
        if (!lt) return NULL;
        const char *gt = strchr(lt, '>');
        if (!gt) return NULL;
        const char *end = gt + 1;
        while (*end && *end != ',') {
            if (*end == '"') {   /* quoted parameter values may hold ',' */
                end++;
                while (*end && *end != '"') end++;
                if (*end) end++;
            } else {
                end++;
            }
        }
        /* look for rel=next / rel="next" (possibly among several relation types) in gt..end */
        for (const char *q = gt + 1; q < end; q++) {
            if (strncasecmp(q, "rel", 3) != 0) continue;
            const char *v = q + 3;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            if (v >= end || *v != '=') continue;
            v++;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            int quoted = v < end && *v == '"';
            if (quoted) v++;
            while (v < end && *v != '"' && *v != ';' && *v != ',') {
                const char *w = v;
                while (w < end && *w != ' ' && *w != '"' && *w != ';' && *w != ',') w++;
                if (w - v == 4 && !strncasecmp(v, "next", 4)) return cm_strndup(lt + 1, (size_t)(gt - lt - 1));
                v = w;
                while (v < end && *v == ' ') v++;
                if (!quoted) break;
            }
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

double hub_retry_after_seconds(const char *value, double now) {
    while (*value == ' ' || *value == '\t') value++;
    if (!*value) return -1;
    if (isdigit((unsigned char)*value)) {
        char *end;
        double s = strtod(value, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
        if (*end == '\0') return s;
    }
    /* an HTTP date: libcurl's parser takes IMF-fixdate, RFC 850 and asctime */
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1) return -1;
    double d = (double)t - now;
    return d > 0 ? d : 0;
}

char *hub_etag_clean(const char *v) {
    while (*v == ' ') v++;
    if (!strncmp(v, "W/", 2)) v += 2;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\r' || v[n - 1] == '\n')) n--;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') { v++; n -= 2; }
    return cm_strndup(v, n);
}

static int class_match(const char **pp, char c) {
    const char *p = *pp + 1;   /* after '[' */
    int neg = *p == '!' || *p == '^';
    if (neg) p++;
    int hit = 0;
    const char *start = p;
    while (*p && (*p != ']' || p == start)) {
        if (p[1] == '-' && p[2] && p[2] != ']') {
            if (c >= p[0] && c <= p[2]) hit = 1;
            p += 3;
        } else {
            if (c == *p) hit = 1;
            p++;
        }
    }
    if (*p != ']') return -1;   /* unterminated: '[' is literal */
    *pp = p + 1;
    return neg ? !hit : hit;
}

/* What a glob match remembers: the (pattern, path) positions already found not
 * to match, so that patterns of many stars take O(len(pat) * len(s)^2) steps,
 * not exponentially many (memo NULL when it could not be allocated: no memory). */
typedef struct glob_ctx {
    const char    *pat0, *s0;
    size_t         ns;         /* strlen(s0) + 1: the memo's row width */
    unsigned char *memo;       /* (strlen(pat0) + 1, ns) bits */
} glob_ctx;

static int glob_body(glob_ctx *g, const char *pat, const char *s);

/* hub_glob_match of pat against s, both suffixes of g's strings, remembering failures. */
static int glob_at(glob_ctx *g, const char *pat, const char *s) {
    size_t bit = (size_t)(pat - g->pat0) * g->ns + (size_t)(s - g->s0);
    if (g->memo && (g->memo[bit >> 3] >> (bit & 7) & 1)) return 0;
    int r = glob_body(g, pat, s);
    if (!r && g->memo) g->memo[bit >> 3] |= (unsigned char)(1u << (bit & 7));
    return r;
}

int hub_glob_match(const char *pat, const char *s) {
    glob_ctx g = {pat, s, strlen(s) + 1, NULL};
    size_t np = strlen(pat) + 1;
    if (np <= ((size_t)1 << 30) / g.ns) g.memo = cm_calloc((np * g.ns + 7) / 8, 1);
    int r = glob_at(&g, pat, s);
    free(g.memo);
    return r;
}

static int glob_body(glob_ctx *g, const char *pat, const char *s) {
    while (*pat) {
        if (pat[0] == '*' && pat[1] == '*') {
            const char *rest = pat + 2;
            if (*rest == '/') {
                rest++;   /* zero or more whole folders */
                if (glob_at(g, rest, s)) return 1;
                for (const char *q = s; *q; q++)
                    if (*q == '/' && glob_at(g, rest, q + 1)) return 1;
                return 0;
            }
            for (const char *q = s;; q++) {
                if (glob_at(g, rest, q)) return 1;
                if (!*q) return 0;
            }
        }
        if (*pat == '*') {
            for (const char *q = s;; q++) {
                if (glob_at(g, pat + 1, q)) return 1;
                if (!*q || *q == '/') return 0;
            }
        }
        if (!*s) return 0;
        if (*pat == '?') {
            if (*s == '/') return 0;
            pat++;
            s++;
            continue;
        }
        if (*pat == '[') {
            const char *p = pat;
            int m = class_match(&p, *s);
            if (m >= 0) {
                if (!m || *s == '/') return 0;
                pat = p;
                s++;
                continue;
            }
        }
        if (*pat != *s) return 0;
        pat++;
        s++;
    }
    return *s == '\0';
}

int hub_is_hex_prefix(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n])) return 0;
    return n >= 4 && n <= 40;
}

int hub_is_commit(const char *s) { return hub_is_hex_prefix(s) && strlen(s) == 40; }

char *hub_token_from_env(void) {
    const char *v = getenv("HF_TOKEN");
    if (!v || !*v) v = getenv("HUGGING_FACE_HUB_TOKEN");
    if (v && *v) return cm_strdup(v);
    const char *home = getenv("HF_HOME");
    char *path = NULL;
    if (home && *home) {
        path = cm_path_join(home, "token");
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
        if (xdg && *xdg) path = cm_asprintf("%s/huggingface/token", xdg);
        else if (h && *h) path = cm_asprintf("%s/.cache/huggingface/token", h);
    }
    char *text = NULL;
    if (!path || !cm_file_exists(path) || cm_read_file_max(path, &text, NULL, 4096)) {
        free(path);
        cm_error_clear();
        return NULL;
    }
    free(path);
    size_t n = strcspn(text, "\r\n");
    text[n] = '\0';
    if (!*text) { free(text); return NULL; }
    return text;
}

static int file_digest(const char *path, const EVP_MD *md, int git_blob, char *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return cm_error(CM_ERR_IO, "%s: cannot open to verify", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    char *buf = cm_malloc(1 << 16);
    int rc = CM_OK;
    if (!ctx || !buf) { rc = CM_ERR_NOMEM; goto done; }
    if (!EVP_DigestInit_ex(ctx, md, NULL)) { rc = cm_error(CM_ERR_INTERNAL, "digest init failed"); goto done; }
    if (git_blob) {   /* git's object id: sha1("blob <size>\0" + content) */
        if (fseeko(f, 0, SEEK_END)) { rc = cm_error(CM_ERR_IO, "%s: cannot seek", path); goto done; }
        char head[48];
        int hn = snprintf(head, sizeof head, "blob %lld", (long long)ftello(f));
        rewind(f);
        EVP_DigestUpdate(ctx, head, (size_t)hn + 1);
    }
    size_t k;
    while ((k = fread(buf, 1, 1 << 16, f)) > 0) EVP_DigestUpdate(ctx, buf, k);
    if (ferror(f)) { rc = cm_error(CM_ERR_IO, "%s: read error while verifying", path); goto done; }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    EVP_DigestFinal_ex(ctx, d, &dn);
    for (unsigned int i = 0; i < dn; i++) sprintf(out + 2 * i, "%02x", d[i]);
done:
    free(buf);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return rc;
}

/* (libcrypto first: without it EVP_sha256() is NULL, and the message says how to get it) */
int hub_file_sha256(const char *path, char out[65]) {
    CM_TRY(cm_need_crypto());
    return file_digest(path, EVP_sha256(), 0, out);
}
int hub_file_git_sha1(const char *path, char out[41]) {
    CM_TRY(cm_need_crypto());
    return file_digest(path, EVP_sha1(), 1, out);
}
