/*
 * test_safetensors.c: the safetensors reader (engine/nn/safetensors.c) on
 * files written here byte by byte: F32/F16/BF16 values and conversion,
 * lookup with prefixes, shape checks, metadata, sharded checkpoints through
 * model.safetensors.index.json, and every validation error (header past the
 * file, bad JSON, unknown dtype, offsets past the buffer, byte count vs
 * shape, overlapping tensors, duplicate names across shards, index naming a
 * missing tensor) with a message naming the file and the tensor.
 */
#include "check.h"

#include "cmteb/util.h"
#include "engine/nn/safetensors.h"

#include <string.h>

static char tmp[4096];

/* Writes header JSON + data into DIR/name. */
static void write_st(const char *name, const char *header, const void *data, size_t n) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    uint64_t hl = strlen(header);
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(hl >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(header, 1, hl, f);
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static int open_err(const char *name, const char *needle) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    cm_safetensors *st = NULL;
    int rc = cm_st_open(&st, path);
    int ok = rc != CM_OK && st == NULL && strstr(cm_last_error(), needle) != NULL;
    if (!ok) fprintf(stderr, "%s: rc %d, message '%s' (wanted '%s')\n", name, rc, cm_last_error(), needle);
    cm_st_free(st);
    return ok;
}

int main(void) {
    snprintf(tmp, sizeof tmp, "%s/safetensors", check_env("CMTEB_TMP")[0] ? check_env("CMTEB_TMP") : "/tmp");
    CHECK_OK(cm_mkdir_p(tmp));

    /* a: F32 (2,3), b: F16 (2), c: BF16 (2), d: I64 (1); data 24 + 4 + 4 + 8 bytes */
    unsigned char data[40];
    float a[6] = {1, -2, 3.5f, 0.25f, -0.125f, 1e-3f};
    memcpy(data, a, 24);
    uint16_t h16[2] = {0x3C00 /* 1.0 */, 0xC000 /* -2.0 */};
    memcpy(data + 24, h16, 4);
    uint16_t b16[2] = {0x3FC0 /* 1.5 */, 0xC0A0 /* -5.0 */};
    memcpy(data + 28, b16, 4);
    int64_t i64 = 7;
    memcpy(data + 32, &i64, 8);
    const char *hdr =
        "{\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
        "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[24,28]},"
        "\"c\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[28,32]},"
        "\"d\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[32,40]},"
        "\"__metadata__\":{\"format\":\"pt\"}}";
    write_st("ok.safetensors", hdr, data, sizeof data);
    char path[4200];
    snprintf(path, sizeof path, "%s/ok.safetensors", tmp);
    cm_safetensors *st = NULL;
    CHECK_OK(cm_st_open(&st, path));
    if (st) {
        CHECK(cm_st_count(st) == 4);
        CHECK(cm_st_data_bytes(st) == 40);
        CHECK(!strcmp(cm_st_metadata(st, "format"), "pt"));
        const cm_st_tensor *t = cm_st_find(st, "a.weight");
        CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->dtype == CM_ST_F32);
        float row[3];
        CHECK_OK(cm_st_read_f32(t, 3, 3, row));
        CHECK(row[0] == 0.25f && row[1] == -0.125f && row[2] == 1e-3f);
        float *all = NULL;
        CHECK_OK(cm_st_to_f32(cm_st_find(st, "b"), &all));
        if (all) CHECK(all[0] == 1.0f && all[1] == -2.0f);
        free(all);
        CHECK_OK(cm_st_to_f32(cm_st_find(st, "c"), &all));
        if (all) CHECK(all[0] == 1.5f && all[1] == -5.0f);
        free(all);
        const uint16_t *bp = cm_st_bf16_ptr(cm_st_find(st, "c"));
        if (bp) CHECK(bp[1] == 0xC0A0);
        CHECK(cm_st_bf16_ptr(cm_st_find(st, "b")) == NULL);
        CHECK(cm_st_to_f32(cm_st_find(st, "d"), &all) == CM_ERR_FORMAT);
        CHECK(strstr(cm_last_error(), "I64") != NULL);
        const char *pre[] = {"bert.", "", NULL};
        CHECK(cm_st_find_prefixed(st, pre, "a.weight") == t);
        CHECK(cm_st_find(st, "zzz") == NULL);
        const cm_st_tensor *o = NULL;
        int64_t good[2] = {2, -1}, badshape[2] = {3, 2};
        CHECK_OK(cm_st_expect(st, "a.weight", 2, good, &o));
        CHECK(cm_st_expect(st, "a.weight", 2, badshape, &o) == CM_ERR_FORMAT);
        CHECK(strstr(cm_last_error(), "[2, 3]") && strstr(cm_last_error(), "[3, 2]") && strstr(cm_last_error(), "a.weight"));
        CHECK(cm_st_expect(st, "missing", -1, NULL, &o) == CM_ERR_NOTFOUND);
        CHECK(strstr(cm_last_error(), "missing") != NULL);
        CHECK(cm_st_read_f32(t, 5, 3, row) == CM_ERR_ARG);
    }
    cm_st_free(st);

    /* validation errors */
    write_st("hdrlong.safetensors", "{}", NULL, 0);
    {
        /* header length field larger than the file */
        char p2[4200];
        snprintf(p2, sizeof p2, "%s/hdrlong.safetensors", tmp);
        FILE *f = fopen(p2, "r+b");
        unsigned char big[8] = {0xff, 0xff, 0, 0, 0, 0, 0, 0};
        fwrite(big, 1, 8, f);
        fclose(f);
    }
    CHECK(open_err("hdrlong.safetensors", "header size"));
    write_st("badjson.safetensors", "{\"a\": [", NULL, 0);
    CHECK(open_err("badjson.safetensors", "not a JSON object"));
    write_st("dtype.safetensors", "{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", data, 1);
    CHECK(open_err("dtype.safetensors", "unknown dtype 'Q4'"));
    write_st("past.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", data, 8);
    CHECK(open_err("past.safetensors", "run past the data buffer"));
    write_st("count.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data, 8);
    CHECK(open_err("count.safetensors", "expected 12"));
    write_st("overlap.safetensors",
             "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", data, 12);
    CHECK(open_err("overlap.safetensors", "overlap"));
    write_st("fields.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", data, 8);
    CHECK(open_err("fields.safetensors", "data_offsets"));
    CHECK(open_err("nonexistent.safetensors", "cannot open"));

    /* sharded */
    char sd[4200];
    snprintf(sd, sizeof sd, "%s/sharded", tmp);
    CHECK_OK(cm_mkdir_p(sd));
    write_st("sharded/m1.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", a, 8);
    write_st("sharded/m2.safetensors", "{\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", a + 2, 4);
    char idx[4300];
    snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", sd);
    const char *ij = "{\"metadata\":{\"total_size\":12},\"weight_map\":{\"x\":\"m1.safetensors\",\"y\":\"m2.safetensors\"}}";
    CHECK_OK(cm_write_file_atomic(idx, ij, strlen(ij)));
    CHECK_OK(cm_st_open(&st, sd));   /* folder: finds the index */
    if (st) {
        CHECK(cm_st_count(st) == 2);
        const cm_st_tensor *y = cm_st_find(st, "y");
        CHECK(y && strstr(y->file, "m2.safetensors"));
        float v;
        CHECK_OK(cm_st_read_f32(y, 0, 1, &v));
        CHECK(v == 3.5f);
    }
    cm_st_free(st);
    ij = "{\"weight_map\":{\"x\":\"m1.safetensors\",\"z\":\"m2.safetensors\"}}";
    CHECK_OK(cm_write_file_atomic(idx, ij, strlen(ij)));
    CHECK(cm_st_open(&st, idx) == CM_ERR_FORMAT && strstr(cm_last_error(), "'z'"));
    write_st("sharded/m2.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", a, 4);
    ij = "{\"weight_map\":{\"x\":\"m1.safetensors\",\"y\":\"m2.safetensors\"}}";
    CHECK_OK(cm_write_file_atomic(idx, ij, strlen(ij)));
    CHECK(cm_st_open(&st, idx) == CM_ERR_FORMAT);
    ij = "{\"weight_map\":{\"x\":\"../m1.safetensors\"}}";
    CHECK_OK(cm_write_file_atomic(idx, ij, strlen(ij)));
    CHECK(cm_st_open(&st, idx) == CM_ERR_FORMAT && strstr(cm_last_error(), "plain name"));
    char empty[4200];
    snprintf(empty, sizeof empty, "%s/emptydir", tmp);
    CHECK_OK(cm_mkdir_p(empty));
    CHECK(cm_st_open(&st, empty) == CM_ERR_NOTFOUND && strstr(cm_last_error(), ".bin"));
    return check_report();
}
