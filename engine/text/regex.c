/* regex.c: the backtracking code-point regex matcher used by the Split and ByteLevel
 * pre-tokenizers (parser into a node graph, then continuation-passing matching). */
#include "engine/text/regex.h"

#include <stdlib.h>
#include <string.h>

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/text/unicode.h"

#define GC_BIT(g) (1u << (g))
#define GC_MASK_L                                                                                                      \
    (GC_BIT(CM_UCAT_Lu) | GC_BIT(CM_UCAT_Ll) | GC_BIT(CM_UCAT_Lt) | GC_BIT(CM_UCAT_Lm) | GC_BIT(CM_UCAT_Lo))
#define GC_MASK_M (GC_BIT(CM_UCAT_Mn) | GC_BIT(CM_UCAT_Mc) | GC_BIT(CM_UCAT_Me))

/* Category name ("L", "Lu", "N", "Letter", ...) to a GC_BIT mask; 0 when unknown. */
static uint32_t gc_mask(const char *name, size_t len) {
    static const char *const two[] = {
        "Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps",
        "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"};
    static const struct { const char *name; char major; } longs[] = {
        {"Letter", 'L'}, {"Mark", 'M'}, {"Number", 'N'}, {"Punctuation", 'P'}, {"Symbol", 'S'},
        {"Separator", 'Z'}, {"Other", 'C'}};
    char major = 0;
    if (len == 1) major = name[0];
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++)
        if (strlen(longs[i].name) == len && memcmp(longs[i].name, name, len) == 0) major = longs[i].major;
    uint32_t m = 0;
    for (int g = 0; g < (int)(sizeof two / sizeof two[0]); g++) {
        if (major && two[g][0] == major) m |= GC_BIT(g);
        if (len == 2 && memcmp(two[g], name, 2) == 0) m |= GC_BIT(g);
    }
    return m;
}

enum { IT_RANGE, IT_GC, IT_SPACE, IT_WORD };
typedef struct rx_item { int kind, neg; uint32_t lo, hi, mask; } rx_item;
typedef struct rx_class { int neg, icase; rx_item *items; size_t n, cap; } rx_class;

enum { N_CLASS, N_GROUP, N_LOOK, N_REPEAT };
typedef struct rx_node {
    int kind;
    struct rx_node *next;      /* next node in the sequence (NULL: end of sequence) */
    rx_class cls;              /* N_CLASS */
    long min, max;             /* quantifier (max < 0: unbounded); N_CLASS defaults to {1,1} */
    int lazy;
    struct rx_node **alts;     /* N_GROUP: heads of the alternative sequences (NULL = empty) */
    size_t nalts, capalts;
    int neg;                   /* N_LOOK: negative lookahead */
    struct rx_node *child;     /* N_LOOK / N_REPEAT: an N_GROUP */
} rx_node;

struct cm_bpe_regex {
    rx_node *root;
    rx_node **all;             /* every node, for freeing */
    size_t nall, capall;
};

typedef struct parser {
    cm_bpe_regex *r;
    const char *pat;           /* for messages */
    uint32_t *p;               /* pattern code points */
    size_t n, i;
} parser;

static int perr(const parser *ps, const char *what) {
    return cm_error(CM_ERR_UNSUPPORTED, "tokenizer regex \"%s\": %s at code point %zu", ps->pat, what, ps->i);
}

static rx_node *new_node(parser *ps, int kind) {
    cm_bpe_regex *r = ps->r;
    if (cm_array_reserve(r->all, r->capall, r->nall + 1) != CM_OK) return NULL;
    rx_node *n = cm_calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->min = n->max = 1;
    r->all[r->nall++] = n;
    return n;
}

static int add_item(rx_class *c, rx_item it) {
    return cm_array_push(c->items, c->n, c->cap, it);
}

static int add_alt(rx_node *g, rx_node *seq) {
    return cm_array_push(g->alts, g->nalts, g->capalts, seq);
}

static int hexval(uint32_t c) {
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (int)((c | 0x20) - 'a' + 10);
    return -1;
}

/* Parses an escape after the backslash into an item (a class item or a single char). */
static int parse_escape(parser *ps, rx_item *it) {
    if (ps->i >= ps->n) return perr(ps, "trailing backslash");
    uint32_t c = ps->p[ps->i++];
    memset(it, 0, sizeof *it);
    it->kind = IT_RANGE;
    switch (c) {
    case 'n': it->lo = it->hi = '\n'; return CM_OK;
    case 'r': it->lo = it->hi = '\r'; return CM_OK;
    case 't': it->lo = it->hi = '\t'; return CM_OK;
    case 'f': it->lo = it->hi = '\f'; return CM_OK;
    case 'v': it->lo = it->hi = '\v'; return CM_OK;
    case 'e': it->lo = it->hi = 0x1B; return CM_OK;
    case 'a': it->lo = it->hi = 0x07; return CM_OK;
    case 's': case 'S': it->kind = IT_SPACE; it->neg = c == 'S'; return CM_OK;
    case 'w': case 'W': it->kind = IT_WORD; it->neg = c == 'W'; return CM_OK;
    case 'd': case 'D': it->kind = IT_GC; it->mask = GC_BIT(CM_UCAT_Nd); it->neg = c == 'D'; return CM_OK;
    case 'p': case 'P': {
        it->kind = IT_GC;
        it->neg = c == 'P';
        char name[32];
        size_t len = 0;
        if (ps->i < ps->n && ps->p[ps->i] == '{') {
            ps->i++;
            if (ps->i < ps->n && ps->p[ps->i] == '^') { it->neg = !it->neg; ps->i++; }
            while (ps->i < ps->n && ps->p[ps->i] != '}') {
                if (len + 1 >= sizeof name || ps->p[ps->i] > 0x7F) return perr(ps, "bad \\p{...} name");
                name[len++] = (char)ps->p[ps->i++];
            }
            if (ps->i >= ps->n) return perr(ps, "unterminated \\p{");
            ps->i++;
        } else if (ps->i < ps->n && ps->p[ps->i] < 0x80) {
            name[len++] = (char)ps->p[ps->i++];
        }
        name[len] = 0;
        it->mask = gc_mask(name, len);
        if (!it->mask) return perr(ps, "unknown Unicode property (only general categories are supported)");
        return CM_OK;
    }
    case 'x': case 'u': {
        uint32_t v = 0;
        int digits = 0;
        if (c == 'x' && ps->i < ps->n && ps->p[ps->i] == '{') {
            ps->i++;
            while (ps->i < ps->n && ps->p[ps->i] != '}') {
                int h = hexval(ps->p[ps->i++]);
                if (h < 0 || ++digits > 6) return perr(ps, "bad \\x{...}");
                v = v * 16 + (uint32_t)h;
            }
            if (ps->i >= ps->n || digits == 0) return perr(ps, "bad \\x{...}");
            ps->i++;
        } else {
            int want = c == 'x' ? 2 : 4;
            for (; digits < want; digits++) {
                int h = ps->i < ps->n ? hexval(ps->p[ps->i]) : -1;
                if (h < 0) return perr(ps, "bad hex escape");
                v = v * 16 + (uint32_t)h;
                ps->i++;
            }
        }
        it->lo = it->hi = v;
        return CM_OK;
    }
    default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            return perr(ps, "unsupported escape");
        it->lo = it->hi = c;   /* escaped punctuation */
        return CM_OK;
    }
}

static int parse_class(parser *ps, rx_class *cls) {
    /* after '[' */
    if (ps->i < ps->n && ps->p[ps->i] == '^') { cls->neg = 1; ps->i++; }
    int first = 1;
    for (;;) {
        if (ps->i >= ps->n) return perr(ps, "unterminated [");
        uint32_t c = ps->p[ps->i];
        if (c == ']' && !first) { ps->i++; return CM_OK; }
        if (c == '[') return perr(ps, "nested classes are not supported");
        first = 0;
        rx_item it;
        ps->i++;
        if (c == '\\') CM_TRY(parse_escape(ps, &it));
        else { memset(&it, 0, sizeof it); it.kind = IT_RANGE; it.lo = it.hi = c; }
        if (it.kind == IT_RANGE && it.lo == it.hi && ps->i + 1 < ps->n && ps->p[ps->i] == '-' &&
            ps->p[ps->i + 1] != ']') {
            ps->i++;
            uint32_t d = ps->p[ps->i++];
            rx_item hi;
            if (d == '\\') CM_TRY(parse_escape(ps, &hi));
            else { memset(&hi, 0, sizeof hi); hi.kind = IT_RANGE; hi.lo = hi.hi = d; }
            if (hi.kind != IT_RANGE || hi.lo != hi.hi || hi.lo < it.lo) return perr(ps, "bad range in class");
            it.hi = hi.lo;
        }
        CM_TRY(add_item(cls, it));
    }
}

static int parse_alt(parser *ps, int icase, rx_node **out);

static int parse_number(parser *ps, long *v) {
    size_t s = ps->i;
    long x = 0;
    while (ps->i < ps->n && ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9' && x < 100000)
        x = x * 10 + (long)(ps->p[ps->i++] - '0');
    *v = x;
    return ps->i > s;
}

/* Parses a quantifier if one follows; *min=*max=1 when none. */
static int parse_quant(parser *ps, long *min, long *max, int *lazy) {
    *min = *max = 1;
    *lazy = 0;
    if (ps->i >= ps->n) return CM_OK;
    uint32_t c = ps->p[ps->i];
    if (c == '?') { *min = 0; *max = 1; ps->i++; }
    else if (c == '*') { *min = 0; *max = -1; ps->i++; }
    else if (c == '+') { *min = 1; *max = -1; ps->i++; }
    else if (c == '{') {
        size_t save = ps->i;
        ps->i++;
        long a, b;
        if (!parse_number(ps, &a)) { ps->i = save; return CM_OK; }   /* literal '{' */
        b = a;
        if (ps->i < ps->n && ps->p[ps->i] == ',') {
            ps->i++;
            if (!parse_number(ps, &b)) b = -1;
        }
        if (ps->i >= ps->n || ps->p[ps->i] != '}' || (b >= 0 && b < a)) { ps->i = save; return CM_OK; }
        ps->i++;
        *min = a; *max = b;
    } else {
        return CM_OK;
    }
    if (ps->i < ps->n && ps->p[ps->i] == '?') { *lazy = 1; ps->i++; }
    else if (ps->i < ps->n && ps->p[ps->i] == '+') return perr(ps, "possessive quantifiers are not supported");
    return CM_OK;
}

static int parse_seq(parser *ps, int icase, rx_node **head) {
    rx_node *first = NULL, *last = NULL;
    while (ps->i < ps->n && ps->p[ps->i] != '|' && ps->p[ps->i] != ')') {
        uint32_t c = ps->p[ps->i++];
        rx_node *nd = NULL;
        if (c == '(') {
            int kind = N_GROUP, neg = 0, sub_icase = icase;
            if (ps->i < ps->n && ps->p[ps->i] == '?') {
                ps->i++;
                uint32_t k = ps->i < ps->n ? ps->p[ps->i] : 0;
                if (k == ':') ps->i++;
                else if (k == '=' || k == '!') { kind = N_LOOK; neg = k == '!'; ps->i++; }
                else if (k == 'i' && ps->i + 1 < ps->n && ps->p[ps->i + 1] == ':') { sub_icase = 1; ps->i += 2;
                } else if (k == '-' && ps->i + 2 < ps->n && ps->p[ps->i + 1] == 'i' && ps->p[ps->i + 2] == ':') {
                    sub_icase = 0;
                    ps->i += 3;
                } else
                    return perr(ps, "unsupported group kind (only (?:, (?i:, (?=, (?!)");
            }
            rx_node *g = NULL;
            CM_TRY(parse_alt(ps, sub_icase, &g));
            if (ps->i >= ps->n || ps->p[ps->i] != ')') return perr(ps, "missing )");
            ps->i++;
            if (kind == N_LOOK) {
                nd = new_node(ps, N_LOOK);
                if (!nd) return CM_ERR_NOMEM;
                nd->neg = neg;
                nd->child = g;
            } else {
                nd = g;
            }
        } else if (c == '[') {
            nd = new_node(ps, N_CLASS);
            if (!nd) return CM_ERR_NOMEM;
            nd->cls.icase = icase;
            CM_TRY(parse_class(ps, &nd->cls));
        } else if (c == '*' || c == '+' || c == '?') {
            return perr(ps, "quantifier with nothing to repeat");
        } else if (c == '^' || c == '$') {
            return perr(ps, "anchors are not supported");
        } else {
            nd = new_node(ps, N_CLASS);
            if (!nd) return CM_ERR_NOMEM;
            nd->cls.icase = icase;
            rx_item it;
            memset(&it, 0, sizeof it);
            it.kind = IT_RANGE;
            if (c == '\\') CM_TRY(parse_escape(ps, &it));
            else if (c == '.') { nd->cls.neg = 1; it.lo = it.hi = '\n'; }
            else it.lo = it.hi = c;
            CM_TRY(add_item(&nd->cls, it));
        }
        long mn, mx;
        int lazy;
        CM_TRY(parse_quant(ps, &mn, &mx, &lazy));
        if (mn != 1 || mx != 1 || lazy) {
            if (nd->kind == N_CLASS) {
                nd->min = mn; nd->max = mx; nd->lazy = lazy;
            } else if (nd->kind == N_LOOK) {
                return perr(ps, "quantified lookahead");
            } else {
                rx_node *rep = new_node(ps, N_REPEAT);
                if (!rep) return CM_ERR_NOMEM;
                rep->child = nd;
                rep->min = mn; rep->max = mx; rep->lazy = lazy;
                nd = rep;
            }
        }
        if (last) last->next = nd; else first = nd;
        last = nd;
    }
    *head = first;
    return CM_OK;
}

static int parse_alt(parser *ps, int icase, rx_node **out) {
    rx_node *g = new_node(ps, N_GROUP);
    if (!g) return CM_ERR_NOMEM;
    for (;;) {
        rx_node *seq = NULL;
        CM_TRY(parse_seq(ps, icase, &seq));
        CM_TRY(add_alt(g, seq));
        if (ps->i < ps->n && ps->p[ps->i] == '|') { ps->i++; continue; }
        break;
    }
    *out = g;
    return CM_OK;
}

void cm_bpe_regex_free(cm_bpe_regex *r) {
    if (!r) return;
    for (size_t i = 0; i < r->nall; i++) {
        free(r->all[i]->cls.items);
        free(r->all[i]->alts);
        free(r->all[i]);
    }
    free(r->all);
    free(r);
}

int cm_bpe_regex_compile(const char *pattern, cm_bpe_regex **out) {
    *out = NULL;
    cm_bpe_regex *r = cm_calloc(1, sizeof *r);
    if (!r) return CM_ERR_NOMEM;
    size_t len = strlen(pattern);
    parser ps = {r, pattern, cm_malloc((len + 1) * sizeof(uint32_t)), 0, 0};
    if (!ps.p) { free(r); return CM_ERR_NOMEM; }
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += cm_utf8_decode(pattern + i, len - i, &cp);
        if (cp == 0xFFFFFFFFu) cp = 0xFFFD;
        ps.p[ps.n++] = cp;
    }
    int rc = parse_alt(&ps, 0, &r->root);
    if (rc == CM_OK && ps.i < ps.n) rc = perr(&ps, "unbalanced )");
    free(ps.p);
    if (rc != CM_OK) { cm_bpe_regex_free(r); return rc; }
    *out = r;
    return CM_OK;
}

/* ---- matching --------------------------------------------------------------- */
static int item_has(const rx_item *it, uint32_t ch) {
    int in;
    switch (it->kind) {
    case IT_RANGE: in = ch >= it->lo && ch <= it->hi; break;
    case IT_GC: in = (it->mask & GC_BIT(cm_u_category(ch))) != 0; break;
    case IT_SPACE: in = cm_u_is_whitespace(ch); break;
    default:
        in = ((GC_MASK_L | GC_MASK_M | GC_BIT(CM_UCAT_Nd) | GC_BIT(CM_UCAT_Pc)) & GC_BIT(cm_u_category(ch))) != 0;
        break;
    }
    return in != it->neg;
}

static int class_raw(const rx_class *c, uint32_t ch) {
    for (size_t i = 0; i < c->n; i++)
        if (item_has(&c->items[i], ch)) return 1;
    return 0;
}

/* Simple case-fold variants (ASCII, plus U+017F long s and U+212A Kelvin sign, which fold to s and k). */
static size_t fold_variants(uint32_t ch, uint32_t v[3]) {
    size_t n = 0;
    if (ch < 0x80 && ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')) {
        v[n++] = ch ^ 0x20;
        if ((ch | 0x20) == 's') v[n++] = 0x17F;
        if ((ch | 0x20) == 'k') v[n++] = 0x212A;
    } else if (ch == 0x17F) { v[n++] = 's'; v[n++] = 'S'; }
    else if (ch == 0x212A) { v[n++] = 'k'; v[n++] = 'K'; }
    return n;
}

static int class_has(const rx_class *c, uint32_t ch) {
    int in = class_raw(c, ch);
    if (!in && c->icase) {
        uint32_t v[3];
        size_t nv = fold_variants(ch, v);
        for (size_t i = 0; i < nv && !in; i++) in = class_raw(c, v[i]);
    }
    return in != c->neg;
}

typedef struct mctx { const uint32_t *s; size_t n; } mctx;
typedef struct cont {
    const rx_node *next;       /* continue with this sequence ... */
    const struct cont *up;     /* ... then with this */
    const rx_node *rep;        /* non-NULL: end of one iteration of this N_REPEAT */
    long count;                /* iterations done (with this one) */
    size_t start;              /* where this iteration started */
} cont;

static long m(const mctx *x, const rx_node *n, size_t pos, const cont *k);

static long rep_step(const mctx *x, const rx_node *R, long count, size_t pos, const cont *k, size_t start) {
    int empty = count > 0 && pos == start;
    int may_more = !empty && (R->max < 0 || count < R->max);
    int may_stop = count >= R->min || empty;
    cont kk = {NULL, k, R, count + 1, pos};
    long r;
    if (!R->lazy) {
        if (may_more && (r = m(x, R->child, pos, &kk)) >= 0) return r;
        if (may_stop) return m(x, R->next, pos, k);
        return -1;
    }
    if (may_stop && (r = m(x, R->next, pos, k)) >= 0) return r;
    if (may_more) return m(x, R->child, pos, &kk);
    return -1;
}

static long m(const mctx *x, const rx_node *n, size_t pos, const cont *k) {
    if (!n) {
        if (!k) return (long)pos;
        if (k->rep) return rep_step(x, k->rep, k->count, pos, k->up, k->start);
        return m(x, k->next, pos, k->up);
    }
    switch (n->kind) {
    case N_CLASS: {
        size_t avail = x->n - pos;
        size_t maxc = n->max < 0 || (size_t)n->max > avail ? avail : (size_t)n->max;
        size_t minc = (size_t)n->min;
        if (!n->lazy) {
            size_t c = 0;
            while (c < maxc && class_has(&n->cls, x->s[pos + c])) c++;
            if (c < minc) return -1;
            for (;; c--) {
                long r = m(x, n->next, pos + c, k);
                if (r >= 0) return r;
                if (c == minc) return -1;
            }
        }
        size_t c = 0;
        while (c < minc) {
            if (c >= avail || !class_has(&n->cls, x->s[pos + c])) return -1;
            c++;
        }
        for (;; c++) {
            long r = m(x, n->next, pos + c, k);
            if (r >= 0) return r;
            if (c >= maxc || !class_has(&n->cls, x->s[pos + c])) return -1;
        }
    }
    case N_GROUP: {
        cont kk = {n->next, k, NULL, 0, 0};
        for (size_t i = 0; i < n->nalts; i++) {
            long r = m(x, n->alts[i], pos, &kk);
            if (r >= 0) return r;
        }
        return -1;
    }
    case N_LOOK: {
        int ok = m(x, n->child, pos, NULL) >= 0;
        if (ok != n->neg) return m(x, n->next, pos, k);
        return -1;
    }
    default:
        return rep_step(x, n, 0, pos, k, pos);
    }
}

int cm_bpe_regex_find(const cm_bpe_regex *r, const uint32_t *s, size_t n, size_t from, size_t *mstart, size_t *mend) {
    mctx x = {s, n};
    for (size_t st = from; st < n; st++) {
        long e = m(&x, r->root, st, NULL);
        if (e > (long)st) { *mstart = st; *mend = (size_t)e; return 1; }
    }
    return 0;
}
