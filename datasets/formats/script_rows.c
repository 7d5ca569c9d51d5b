/*
 * script_rows.c: the rows of the hub loading scripts cmteb implements in C
 * (see formats.h, dataset.h):
 *
 * amazon_counterfactual (mteb/amazon_counterfactual @ e837954): the file is
 *   data/{EN,DE,JP,EN-ext}_{train,valid,test}.tsv, a TSV with a header
 *   "sentence<TAB>is_counterfactual" and CSV quoting; each row becomes
 *   {"text": sentence, "label": int(is_counterfactual), "label_text":
 *   "counterfactual" | "not-counterfactual"}, in file order.
 * massive:LOCALE:PARTITION:intent|scenario (mteb/amazon_massive_intent @
 *   31efe3c, mteb/amazon_massive_scenario): the file is the MASSIVE 1.0
 *   tarball; its member 1.0/data/LOCALE.jsonl is read, the lines whose
 *   "partition" equals PARTITION (train, dev or test) are kept in file order,
 *   and each becomes {"id", "text": utt, "label": intent or scenario name,
 *   "label_text": the same}.
 */
#include "datasets/formats/formats.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- amazon_counterfactual --------------------------------------------------- */
typedef struct {
    cm_records *tsv;
} cf_source;

static void cf_close(void *ctx) {
    cf_source *s = ctx;
    if (!s) return;
    cm_records_close(s->tsv);
    free(s);
}

static int cf_next(void *ctx, cJSON **obj, size_t *line) {
    cf_source *s = ctx;
    cJSON *row;
    *obj = NULL;
    int rc = cm_records_next(s->tsv, &row);
    if (rc != 1) return rc;
    *line = cm_records_line(s->tsv);
    const char *text, *lab;
    CM_TRY(cm_rec_string(s->tsv, row, "sentence", &text));
    CM_TRY(cm_rec_string(s->tsv, row, "is_counterfactual", &lab));
    if (strcmp(lab, "0") != 0 && strcmp(lab, "1") != 0)
        return cm_rec_error(s->tsv, "is_counterfactual", "expected 0 or 1");
    int y = lab[0] == '1';
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "text", text) || !cJSON_AddNumberToObject(o, "label", y) ||
        !cJSON_AddStringToObject(o, "label_text", y ? "counterfactual" : "not-counterfactual")) {
        cJSON_Delete(o);
        return CM_ERR_NOMEM;
    }
    *obj = o;
    return 1;
}

static int open_counterfactual(cm_records **out, const char *file) {
    cf_source *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    int rc = cm_records_open(&s->tsv, file);
    if (rc) {
        free(s);
        return rc;
    }
    cm_records_source src = {s, cf_next, cf_close};
    return cm_records_open_source(out, file, src);
}

/* ---- massive ------------------------------------------------------------------ */
typedef struct {
    char  *name;        /* ARCHIVE:MEMBER, for messages */
    char  *buf;         /* the member, whole */
    size_t len, pos;
    size_t line;
    char   partition[16];
    int    scenario;    /* label from "scenario" instead of "intent" */
} mv_source;

static void mv_close(void *ctx) {
    mv_source *s = ctx;
    if (!s) return;
    free(s->name);
    free(s->buf);
    free(s);
}

static int mv_error(const mv_source *s, const char *field, const char *msg) {
    return cm_error(CM_ERR_FORMAT, "%s:%zu: field '%s': %s", s->name, s->line, field, msg);
}

static int mv_next(void *ctx, cJSON **obj, size_t *line) {
    mv_source *s = ctx;
    *obj = NULL;
    while (s->pos < s->len) {
        char *start = s->buf + s->pos, *nl = memchr(start, '\n', s->len - s->pos);
        size_t n = nl ? (size_t)(nl - start) : s->len - s->pos;
        s->pos += n + (nl != NULL);
        s->line++;
        size_t k = 0;
        while (k < n && (start[k] == ' ' || start[k] == '\t' || start[k] == '\r')) k++;
        if (k == n) continue;
        cJSON *in = cJSON_ParseWithLength(start, n);
        if (!cJSON_IsObject(in)) {
            cJSON_Delete(in);
            return cm_error(CM_ERR_FORMAT, "%s:%zu: invalid JSON (expected one object per line)", s->name, s->line);
        }
        const cJSON *part = cJSON_GetObjectItemCaseSensitive(in, "partition");
        const cJSON *utt = cJSON_GetObjectItemCaseSensitive(in, "utt");
        const cJSON *lab = cJSON_GetObjectItemCaseSensitive(in, s->scenario ? "scenario" : "intent");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(in, "id");
        int rc = !cJSON_IsString(part) ? mv_error(s, "partition", "expected a string (train, dev or test)")
                 : !cJSON_IsString(utt) ? mv_error(s, "utt", "expected a string")
                 : !cJSON_IsString(lab) ? mv_error(s, s->scenario ? "scenario" : "intent", "expected a string")
                                        : CM_OK;
        if (rc || strcmp(part->valuestring, s->partition) != 0) {
            cJSON_Delete(in);
            if (rc) return rc;
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        int ok = o && (!id || cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1))) &&
                 cJSON_AddStringToObject(o, "text", utt->valuestring) &&
                 cJSON_AddStringToObject(o, "label", lab->valuestring) &&
                 cJSON_AddStringToObject(o, "label_text", lab->valuestring);
        cJSON_Delete(in);
        if (!ok) {
            cJSON_Delete(o);
            return CM_ERR_NOMEM;
        }
        *line = s->line;
        *obj = o;
        return 1;
    }
    return 0;
}

/* spec "massive:LOCALE:PARTITION:intent|scenario" */
static int open_massive(cm_records **out, const char *file, const char *spec) {
    char locale[32], part[16], kind[16];
    if (sscanf(spec, "massive:%31[^:]:%15[^:]:%15s", locale, part, kind) != 3 ||
        (strcmp(kind, "intent") && strcmp(kind, "scenario")) || strpbrk(locale, "/."))
        return cm_error(CM_ERR_ARG, "%s: bad reader '%s' (expected massive:LOCALE:PARTITION:intent|scenario)", file,
                        spec);
    char member[64];
    snprintf(member, sizeof member, "1.0/data/%s.jsonl", locale);
    mv_source *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    snprintf(s->partition, sizeof s->partition, "%s", part);
    s->scenario = !strcmp(kind, "scenario");
    int rc = cm_tar_read_member(file, member, (size_t)1 << 30, &s->buf, &s->len);
    if (!rc && !(s->name = cm_asprintf("%s:%s", file, member))) rc = CM_ERR_NOMEM;
    if (rc) {
        mv_close(s);
        return rc;
    }
    cm_records_source src = {s, mv_next, mv_close};
    return cm_records_open_source(out, s->name, src);
}

int cm_script_open(cm_records **out, const char *file, const char *spec) {
    *out = NULL;
    if (!strcmp(spec, "amazon_counterfactual")) return open_counterfactual(out, file);
    if (!strncmp(spec, "massive:", 8)) return open_massive(out, file, spec);
    return cm_error(CM_ERR_ARG, "%s: unknown reader '%s' (known: amazon_counterfactual, "
                    "massive:LOCALE:PARTITION:intent|scenario)", file, spec);
}
