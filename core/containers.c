/* containers.c: growable arrays and the string map (see array.h, strmap.h). */
#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/strmap.h"
#include "cmteb/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- arrays ---------------------------------------------------------------- */
int cm_array_reserve_(void *pp, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return CM_OK;
    size_t c = *cap < 8 ? 8 : *cap;
    while (c < need) {
        if (c > SIZE_MAX / 2) { c = need; break; }
        c *= 2;
    }
    if (c > SIZE_MAX / elem) return cm_error(CM_ERR_NOMEM, "array of %zu x %zu bytes is too large", need, elem);
    void *old;
    memcpy(&old, pp, sizeof old);
    void *p = cm_realloc(old, c * elem);
    if (!p) return CM_ERR_NOMEM;
    memcpy(pp, &p, sizeof p);
    *cap = c;
    return CM_OK;
}

/* ---- string map ------------------------------------------------------------ */
typedef struct {
    const char *key;    /* NULL: empty slot */
    size_t      len;
    uint64_t    hash;
    uint64_t    value;
} slot;

struct cm_strmap {
    slot  *slots;   /* (cap), cap a power of two */
    size_t cap, count;
    int    copy_keys;
};

cm_strmap_params cm_strmap_default_params(void) {
    cm_strmap_params p = {0, 0};
    return p;
}

int cm_strmap_init(cm_strmap **out, const cm_strmap_params *params) {
    *out = NULL;
    cm_strmap_params dflt = cm_strmap_default_params();
    if (!params) params = &dflt;
    cm_strmap *m = cm_calloc(1, sizeof *m);
    if (!m) return CM_ERR_NOMEM;
    size_t cap = 16;
    while (cap < params->expected + params->expected / 2 + 1) cap *= 2;
    m->slots = cm_calloc(cap, sizeof *m->slots);
    if (!m->slots) { free(m); return CM_ERR_NOMEM; }
    m->cap = cap;
    m->copy_keys = params->copy_keys;
    *out = m;
    return CM_OK;
}

void cm_strmap_free(cm_strmap *m) {
    if (!m) return;
    if (m->copy_keys)
        for (size_t i = 0; i < m->cap; i++) free((char *)m->slots[i].key);
    free(m->slots);
    free(m);
}

static size_t find(const cm_strmap *m, const char *key, size_t len, uint64_t h) {
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    while (m->slots[i].key) {
        const slot *s = &m->slots[i];
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) return i;
        i = (i + 1) & mask;
    }
    return i;
}

static int grow(cm_strmap *m) {
    size_t cap = m->cap * 2;
    slot *ns = cm_calloc(cap, sizeof *ns);
    if (!ns) return CM_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        size_t j = (size_t)m->slots[i].hash & (cap - 1);
        while (ns[j].key) j = (j + 1) & (cap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = cap;
    return CM_OK;
}

static int insert(cm_strmap *m, const char *key, size_t len, uint64_t *value, int replace) {
    uint64_t h = cm_hash64(key, len, 0x9e3779b97f4a7c15ULL);
    size_t i = find(m, key, len, h);
    if (m->slots[i].key) {
        if (replace) m->slots[i].value = *value;
        else *value = m->slots[i].value;
        return 0;
    }
    if ((m->count + 1) * 4 > m->cap * 3) {   /* load factor 3/4 */
        CM_TRY(grow(m));
        i = find(m, key, len, h);
    }
    const char *k = key;
    if (m->copy_keys && !(k = cm_strndup(key, len))) return CM_ERR_NOMEM;
    m->slots[i] = (slot){k, len, h, *value};
    m->count++;
    return 1;
}

int cm_strmap_putn(cm_strmap *m, const char *key, size_t len, uint64_t value) {
    return insert(m, key, len, &value, 1);
}

int cm_strmap_put(cm_strmap *m, const char *key, uint64_t value) {
    return insert(m, key, strlen(key), &value, 1);
}

int cm_strmap_insertn(cm_strmap *m, const char *key, size_t len, uint64_t *value) {
    return insert(m, key, len, value, 0);
}

int cm_strmap_getn(const cm_strmap *m, const char *key, size_t len, uint64_t *value) {
    uint64_t h = cm_hash64(key, len, 0x9e3779b97f4a7c15ULL);
    size_t i = find(m, key, len, h);
    if (!m->slots[i].key) return 0;
    if (value) *value = m->slots[i].value;
    return 1;
}

int cm_strmap_get(const cm_strmap *m, const char *key, uint64_t *value) {
    return cm_strmap_getn(m, key, strlen(key), value);
}

size_t cm_strmap_count(const cm_strmap *m) { return m->count; }
