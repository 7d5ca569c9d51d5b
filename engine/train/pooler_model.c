/* pooler_model.c: reads the trained-pooler model folder's reference to its backbone (pooler_model.h). */
#include "engine/train/pooler_model.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"

void cm_pooler_ref_free(cm_pooler_ref *r) {
    if (!r) return;
    free(r->backbone); free(r->head_dir); free(r->attention); free(r->query_template);
    free(r);
}

static int opt_string(const cJSON *o, const char *key, const char *where, char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return CM_OK;
    if (!cJSON_IsString(v)) return cm_error(CM_ERR_FORMAT, "%s: \"cmteb_pooler.%s\": expected a string", where, key);
    return (*out = cm_strdup(v->valuestring)) ? CM_OK : CM_ERR_NOMEM;
}

int cm_pooler_ref_read(const char *dir, cm_pooler_ref **out) {
    *out = NULL;
    char *path = cm_path_join(dir, "config.json");
    if (!path) return CM_ERR_NOMEM;
    char *text = NULL;
    size_t len = 0;
    int rc = cm_file_exists(path) ? cm_read_file(path, &text, &len) : CM_OK;
    cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "cmteb_pooler");
    if (rc != CM_OK || !p) {   /* not ours (hf_model.c reports a bad config.json itself) */
        cJSON_Delete(j);
        free(path);
        return rc;
    }
    cm_pooler_ref *r = cm_calloc(1, sizeof *r);
    char *bb = NULL, *head = NULL;
    rc = r ? CM_OK : CM_ERR_NOMEM;
    if (rc == CM_OK && !cJSON_IsObject(p))
        rc = cm_error(CM_ERR_FORMAT, "%s: \"cmteb_pooler\": expected an object", path);
    if (rc == CM_OK) rc = opt_string(p, "backbone", path, &bb);
    if (rc == CM_OK && !bb) rc = cm_error(CM_ERR_FORMAT, "%s: \"cmteb_pooler.backbone\": missing (the backbone "
                                          "model folder)", path);
    if (rc == CM_OK) rc = opt_string(p, "head", path, &head);
    if (rc == CM_OK) rc = opt_string(p, "attention", path, &r->attention);
    if (rc == CM_OK) rc = opt_string(p, "query_template", path, &r->query_template);
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(p, "max_length");
    if (rc == CM_OK && ml) {
        if (!cJSON_IsNumber(ml) || ml->valuedouble < 1 || ml->valuedouble > 1e6)
            rc = cm_error(CM_ERR_FORMAT, "%s: \"cmteb_pooler.max_length\": expected a positive integer", path);
        else r->max_length = (int)ml->valuedouble;
    }
    if (rc == CM_OK) {
        r->backbone = bb[0] == '/' ? cm_strdup(bb) : cm_path_join(dir, bb);
        r->head_dir = cm_path_join(dir, head ? head : "1_Head");
        if (!r->backbone || !r->head_dir) rc = CM_ERR_NOMEM;
    }
    if (rc == CM_OK && !cm_dir_exists(r->backbone))
        rc = cm_error(CM_ERR_NOTFOUND, "%s: the backbone folder %s (\"cmteb_pooler.backbone\") does not exist", path,
                      r->backbone);
    free(bb); free(head);
    cJSON_Delete(j);
    free(path);
    if (rc != CM_OK) {
        cm_pooler_ref_free(r);
        return rc;
    }
    *out = r;
    return CM_OK;
}
