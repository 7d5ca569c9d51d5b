/*
 * st_dense.c: implements st_dense.h.
 */
#include "engine/nn/st_dense.h"

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/nn/safetensors.h"

#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const act_names[] = {"Identity", "Tanh", "ReLU", "Sigmoid", "GELU"};

int cm_dense_read_config(cm_dense *d, const char *model_dir, const char *path) {
    memset(d, 0, sizeof *d);
    if (!path || !*path) return cm_error(CM_ERR_FORMAT, "%s/modules.json: a Dense module without a path", model_dir);
    d->dir = cm_path_join(model_dir, path);
    char *cfgp = d->dir ? cm_path_join(d->dir, "config.json") : NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = cfgp ? cm_read_file_max(cfgp, &text, &len, CM_READ_MAX_JSON) : CM_ERR_NOMEM;
    if (rc) {
        free(cfgp);
        return rc == CM_ERR_NOMEM ? rc : cm_error_wrap(rc, "sentence-transformers Dense module");
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!j) {
        rc = cm_error(CM_ERR_FORMAT, "%s: not valid JSON", cfgp);
        free(cfgp);
        return rc;
    }
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "in_features");
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(j, "out_features");
    const cJSON *bias = cJSON_GetObjectItemCaseSensitive(j, "bias");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "activation_function");
    if (!cJSON_IsNumber(in) || !cJSON_IsNumber(out) || in->valuedouble < 1 || out->valuedouble < 1 ||
        in->valuedouble > 1e6 || out->valuedouble > 1e6 || in->valuedouble != floor(in->valuedouble) ||
        out->valuedouble != floor(out->valuedouble)) {
        rc = cm_error(CM_ERR_FORMAT, "%s: 'in_features' and 'out_features' must be positive integers", cfgp);
    } else {
        d->in = (size_t)in->valuedouble;
        d->out = (size_t)out->valuedouble;
        d->has_bias = !cJSON_IsFalse(bias);   /* sentence-transformers' default: True */
        const char *a = cJSON_IsString(act) ? act->valuestring : "torch.nn.modules.activation.Tanh";
        const char *dot = strrchr(a, '.');
        const char *base = dot ? dot + 1 : a;
        int k = 0;
        while (k < 5 && strcmp(base, act_names[k])) k++;
        if (k < 5) d->act = (cm_dense_act)k;
        else rc = cm_error(CM_ERR_UNSUPPORTED, "%s: activation_function '%s' is not supported (Identity, Tanh, "
                           "ReLU, Sigmoid, GELU)", cfgp, a);
    }
    cJSON_Delete(j);
    free(cfgp);
    return rc;
}

int cm_dense_load_weights(cm_dense *d) {
    char *sp = cm_path_join(d->dir, "model.safetensors"), *bin = cm_path_join(d->dir, "pytorch_model.bin");
    int rc = sp && bin ? CM_OK : CM_ERR_NOMEM;
    if (!rc && !cm_file_exists(sp))
        rc = cm_file_exists(bin)
                 ? cm_error(CM_ERR_UNSUPPORTED, "%s: Dense weights are a PyTorch pickle; cmteb reads safetensors only "
                            "(convert: torch.load it and safetensors.torch.save_file the state dict as "
                            "model.safetensors in the same folder)", bin)
                 : cm_error(CM_ERR_NOTFOUND, "%s: not found (the Dense module's weights)", sp);
    free(sp);
    free(bin);
    if (rc) return rc;
    cm_safetensors *st = NULL;
    CM_TRY(cm_st_open(&st, d->dir));
    int64_t wshape[2] = {(int64_t)d->out, (int64_t)d->in}, bshape[1] = {(int64_t)d->out};
    const cm_st_tensor *w = cm_st_find(st, "linear.weight"), *b = cm_st_find(st, "linear.bias");
    if (!w) rc = cm_error(CM_ERR_NOTFOUND, "%s: tensor 'linear.weight' not found (a Dense module)", cm_st_path(st));
    if (!rc) rc = cm_st_check_shape(w, 2, wshape);
    if (!rc) rc = cm_st_to_f32(w, &d->W);
    if (!rc && d->has_bias) {
        if (!b) rc = cm_error(CM_ERR_NOTFOUND, "%s: tensor 'linear.bias' not found (config.json says bias)",
                              cm_st_path(st));
        if (!rc) rc = cm_st_check_shape(b, 1, bshape);
        if (!rc) rc = cm_st_to_f32(b, &d->b);
    }
    cm_st_free(st);
    return rc;
}

int cm_dense_prepare(cm_dense *d, cm_cpu_dtype dt) {
    cm_wmat_free(&d->q);
    d->lp = cm_wlinear_default_params();
    d->lp.dtype = dt;
    if (dt == CM_CPU_FP32 || !d->W) return CM_OK;
    cm_wmat_wrap_f32(&d->q, d->W, d->out, d->in);
    int rc = cm_wmat_prepare(&d->q, dt);
    if (rc) memset(&d->q, 0, sizeof d->q);
    return rc;
}

int cm_dense_apply(const cm_dense *d, const float *x, size_t n, float *y) {
    if (!n) return CM_OK;
    if (d->q.data) {
        CM_TRY(cm_wlinear_bias(x, d->in, &d->q, NULL, n, y, d->out, 0.0f, 1, &d->lp, NULL));
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)d->out, (blasint)d->in, 1.0f, x,
                    (blasint)d->in, d->W, (blasint)d->in, 0.0f, y, (blasint)d->out);
    }
    for (size_t i = 0; i < n; i++) {
        float *r = y + i * d->out;
        for (size_t j = 0; j < d->out; j++) {
            float v = r[j] + (d->b ? d->b[j] : 0.0f);
            switch (d->act) {
            case CM_DENSE_TANH: v = tanhf(v); break;
            case CM_DENSE_RELU: v = v > 0 ? v : 0; break;
            case CM_DENSE_SIGMOID: v = 1.0f / (1.0f + expf(-v)); break;
            case CM_DENSE_GELU: v = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); break;
            default: break;
            }
            r[j] = v;
        }
    }
    return CM_OK;
}

uint64_t cm_dense_hash(const cm_dense *d, uint64_t h) {
    uint64_t meta[4] = {d->in, d->out, (uint64_t)d->has_bias, (uint64_t)d->act};
    h = cm_hash64(meta, sizeof meta, h);
    if (d->W) h = cm_hash64(d->W, d->in * d->out * sizeof *d->W, h);
    if (d->b) h = cm_hash64(d->b, d->out * sizeof *d->b, h);
    return h;
}

void cm_dense_describe(const cm_dense *d, char *buf, size_t size) {
    static const char *const lower[] = {"identity", "tanh", "relu", "sigmoid", "gelu"};
    snprintf(buf, size, "%zu->%zu %s%s", d->in, d->out, lower[d->act], d->has_bias ? "" : " (no bias)");
}

void cm_dense_clear(cm_dense *d) {
    if (!d) return;
    free(d->dir);
    free(d->W);
    free(d->b);
    cm_wmat_free(&d->q);
    memset(d, 0, sizeof *d);
}
