/*
 * cmd_train_pooler.c: `cmteb train-pooler`: trains a pooling head on a frozen
 * hf: backbone (issue #17, stage 1: retrieval pairs). Reads the training
 * sources and mines hard negatives (train_data.c), computes the backbone's
 * token states once (cached in OUTPUT/cache), trains (cmteb/pooler_train.h)
 * with checkpoints in OUTPUT/checkpoint, and writes OUTPUT as a model folder
 * that `--model hf:OUTPUT` loads: config.json referencing the backbone,
 * 1_Head/{config.json,model.safetensors}, modules.json, train.json.
 */
#include "eval/cli/cli.h"
#include "eval/cli/train_data.h"
#include "cmteb/interrupt.h"
#include "cmteb/pooler_train.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TRAIN = 16 };

static void usage(FILE *f) {
    fprintf(f,
        "usage: cmteb train-pooler --model hf:PATH --head latent|mean-linear|last-linear|self-attention\n"
        "                          --train SPEC [--train SPEC ...] --output DIR [options]\n"
        "\n"
        "Trains a pooling head on the frozen backbone PATH with InfoNCE (in-batch negatives plus hard negatives\n"
        "mined with the backbone's own mean-pooled vectors) and AdamW, and writes DIR as a model folder:\n"
        "`--model hf:DIR` uses the trained head (pooling 'head'; other --pooling values pool the backbone).\n"
        "The backbone's token states are computed once and cached in DIR/cache; checkpoints go to\n"
        "DIR/checkpoint: run the same command again after an interruption to resume.\n"
        "\n"
        "  SPEC: beir:DIR[#SPLIT]   BEIR folder, qrels/SPLIT.tsv (default train; 'test' is refused)\n"
        "        jsonl:FILE         {\"query\": ..., \"positive\": ..., \"negatives\": [...]} per line\n"
        "  --attention A          bidirectional|causal (the backbone's attention; default: the model's)\n"
        "  --instruction T        instruction put before every query (\"Instruct: T\\nQuery: \"); its tokens\n"
        "                         are left out of the pooled tokens\n"
        "  --epochs N (1; 0 writes the initialised head, the untrained baseline, without reading the data)\n"
        "  --lr X (1e-3)  --warmup N (0 steps)  --weight-decay X (0.01)\n"
        "  --batch-size N (16)    examples per step\n"
        "  --negatives K (2)      hard negatives per example (at most 16)\n"
        "  --margin X (0.05)      skip mined candidates scoring above the positive's score - X\n"
        "  --no-in-batch          only each query's own positive and hard negatives (stage 2 style)\n"
        "  --init DIR             start from a trained head (a train-pooler output folder or its 1_Head) instead\n"
        "                         of the seed's initialisation: a second stage (its kind must be --head)\n"
        "  --temperature X (0.05) --seed N (42)  --max-steps N  --limit N (examples per source)\n"
        "  --latents N (64)  --heads N (4)        latent head sizes\n"
        "  --max-length N         backbone tokens per text (default: the model's)\n"
        "  --checkpoint-every N (50)  --threads N  --quiet\n");
}

static int parse_float(const char *opt, const char *v, double lo, double hi, double *out) {
    char *end = NULL;
    double x = v ? strtod(v, &end) : NAN;
    if (!v || end == v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "cmteb train-pooler: %s: expected a number in [%g, %g], got '%s'\n", opt, lo, hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 0;
}

/* config.json (the backbone reference), modules.json and train.json of the output folder. */
static int write_folder(const char *out, const char *backbone, const char *attention, const char *qtmpl,
                        int max_length, const cm_head *h, double first, double last, long steps, size_t n_ex,
                        const char *const *train, int n_train, const char *init) {
    cJSON *c = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(c, "cmteb_pooler");
    cJSON_AddStringToObject(p, "backbone", backbone);
    cJSON_AddStringToObject(p, "head", "1_Head");
    if (attention) cJSON_AddStringToObject(p, "attention", attention);
    if (qtmpl) cJSON_AddStringToObject(p, "query_template", qtmpl);
    if (max_length > 0) cJSON_AddNumberToObject(p, "max_length", max_length);
    cJSON *m = cJSON_CreateArray();
    cJSON *m0 = cJSON_CreateObject(), *m1 = cJSON_CreateObject();
    cJSON_AddNumberToObject(m0, "idx", 0);
    cJSON_AddStringToObject(m0, "path", backbone);
    cJSON_AddStringToObject(m0, "type", "sentence_transformers.models.Transformer");
    cJSON_AddNumberToObject(m1, "idx", 1);
    cJSON_AddStringToObject(m1, "path", "1_Head");
    cJSON_AddStringToObject(m1, "type", "cmteb.TrainedPoolingHead");
    cJSON_AddItemToArray(m, m0);
    cJSON_AddItemToArray(m, m1);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "head", cm_head_kind_name(cm_head_get_params(h)->kind));
    cJSON_AddNumberToObject(t, "examples", (double)n_ex);
    cJSON_AddNumberToObject(t, "steps", (double)steps);
    cJSON_AddNumberToObject(t, "loss_first_epoch", first);
    cJSON_AddNumberToObject(t, "loss_last_epoch", last);
    if (init) cJSON_AddStringToObject(t, "init", init);
    cJSON *tr = cJSON_AddArrayToObject(t, "train");
    for (int i = 0; i < n_train; i++) cJSON_AddItemToArray(tr, cJSON_CreateString(train[i]));
    int rc = CM_OK;
    const char *names[3] = {"config.json", "modules.json", "train.json"};
    cJSON *docs[3] = {c, m, t};
    for (int i = 0; i < 3 && rc == CM_OK; i++) {
        char *s = cJSON_Print(docs[i]), *path = cm_path_join(out, names[i]);
        rc = s && path ? cm_write_file_atomic(path, s, strlen(s)) : CM_ERR_NOMEM;
        free(s);
        free(path);
    }
    for (int i = 0; i < 3; i++) cJSON_Delete(docs[i]);
    return rc;
}

/* The head to start from (--init DIR: a train-pooler output folder or a head folder), which must be of hp's kind
 * and the backbone's width; hp takes its sizes. Caller frees *out. */
static int load_init(const char *dir, cm_head_params *hp, cm_head **out) {
    char *sub = cm_path_join(dir, "1_Head/config.json"), *hd = NULL;
    if (!sub) return CM_ERR_NOMEM;
    hd = cm_file_exists(sub) ? cm_path_join(dir, "1_Head") : cm_strdup(dir);
    free(sub);
    if (!hd) return CM_ERR_NOMEM;
    int rc = cm_head_load(out, hd, hp->d);
    if (rc == CM_OK && cm_head_get_params(*out)->kind != hp->kind) {
        rc = cm_error(CM_ERR_ARG, "--init %s: a %s head, but --head is %s", hd,
                      cm_head_kind_name(cm_head_get_params(*out)->kind), cm_head_kind_name(hp->kind));
        cm_head_free(*out);
        *out = NULL;
    }
    if (rc == CM_OK) *hp = *cm_head_get_params(*out);
    free(hd);
    return rc;
}

int cm_cmd_train_pooler(int argc, char **argv) {
    const char *model = NULL, *head_s = NULL, *output = NULL, *instruction = NULL, *init = NULL;
    const char *train[MAX_TRAIN];
    int n_train = 0, bad = 0;
    cm_encoder_params ep = cm_encoder_default_params();
    cm_pooler_train_params tp = cm_pooler_train_default_params();
    cm_head_params hp = cm_head_default_params();
    cm_train_mining mp = {2, 0.05f, 0, NULL};
    tp.k = 2;
    int max_length = 0;   /* 0: the model's own */
    for (int i = 1; i < argc && !bad; i++) {
        const char *v = NULL;
        double x = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (cm_opt_flag(argv, i, "--quiet") || cm_opt_flag(argv, i, "-q")) {
        } else if (cm_opt_flag(argv, i, "--no-in-batch")) {
            tp.in_batch = 0;
        } else if (cm_opt_value(argc, argv, &i, "--model", &model, &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--head", &head_s, &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--output", &output, &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--instruction", &instruction, &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--init", &init, &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--attention", &ep.attention, &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--train", &v, &bad)) {
            if (n_train == MAX_TRAIN) {
                fprintf(stderr, "cmteb train-pooler: at most %d --train sources\n", MAX_TRAIN);
                bad = 1;
            } else train[n_train++] = v;
        } else if (cm_opt_value(argc, argv, &i, "--lr", &v, &bad)) {
            bad = parse_float("--lr", v, 1e-9, 10, &x) != 0;
            tp.opt.lr = (float)x;
        } else if (cm_opt_value(argc, argv, &i, "--weight-decay", &v, &bad)) {
            bad = parse_float("--weight-decay", v, 0, 10, &x) != 0;
            tp.opt.weight_decay = (float)x;
        } else if (cm_opt_value(argc, argv, &i, "--temperature", &v, &bad)) {
            bad = parse_float("--temperature", v, 1e-4, 100, &x) != 0;
            tp.temperature = (float)x;
        } else if (cm_opt_value(argc, argv, &i, "--margin", &v, &bad)) {
            bad = parse_float("--margin", v, -2, 2, &x) != 0;
            mp.margin = (float)x;
        } else {
            static const char *const ints[] = {"--epochs", "--batch-size", "--negatives", "--seed", "--max-steps",
                                               "--limit", "--latents", "--heads", "--max-length", "--threads",
                                               "--warmup", "--checkpoint-every"};
            int hit = 0;
            for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !hit && !bad; k++) {
                if (!cm_opt_value(argc, argv, &i, ints[k], &v, &bad)) continue;
                hit = 1;
                long n = bad ? -1 : cm_opt_long(ints[k], v);
                if (n < 0 || n > INT_MAX) { bad = 1; break; }
                switch (k) {
                case 0: tp.epochs = (int)n; break;
                case 1: tp.batch = (size_t)n; break;
                case 2: tp.k = mp.k = (size_t)n; break;
                case 3: tp.seed = hp.seed = (uint64_t)n; break;
                case 4: tp.max_steps = n; break;
                case 5: mp.limit = (size_t)n; break;
                case 6: hp.n_latents = n; break;
                case 7: hp.heads = n; break;
                case 8: max_length = (int)n; break;
                case 9: ep.threads = (int)n; break;
                case 10: tp.opt.warmup = n; break;
                default: tp.checkpoint_every = n; break;
                }
            }
            if (!hit && !bad) {
                fprintf(stderr, "cmteb train-pooler: unknown option '%s' (see --help)\n", argv[i]);
                bad = 1;
            }
        }
    }
    if (!bad && (!model || strncmp(model, "hf:", 3) || !head_s || !output || !n_train)) {
        fprintf(stderr, "cmteb train-pooler: --model hf:PATH, --head, --train and --output are required\n");
        bad = 1;
    }
    if (!bad && (tp.k > CM_POOLER_MAX_NEG || tp.epochs < 0 || tp.batch < 1 || max_length == 1)) {
        fprintf(stderr, "cmteb train-pooler: --negatives at most %d; --batch-size >= 1; --max-length >= 2 "
                "when given\n", CM_POOLER_MAX_NEG);
        bad = 1;
    }
    if (!bad && cm_head_kind_parse(head_s, &hp.kind) != CM_OK) {
        fprintf(stderr, "cmteb train-pooler: %s\n", cm_last_error());
        bad = 1;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }
    char *backbone = realpath(model + 3, NULL);
    if (!backbone) {
        cm_error(CM_ERR_NOTFOUND, "%s: model folder not found", model + 3);
        return cm_cli_fail("train-pooler", NULL);
    }
    const char *qtmpl = instruction ? "Instruct: {instruction}\nQuery: " : NULL;
    ep.max_length = max_length;
    ep.query_template = qtmpl;
    mp.instruction = instruction;
    cm_pooler_backbone *bb = NULL;
    cm_train_set set;
    memset(&set, 0, sizeof set);
    cm_pooler_states st;
    memset(&st, 0, sizeof st);
    cm_head *h = NULL;
    char *cache = cm_path_join(output, "cache/states.bin"), *ckpt = cm_path_join(output, "checkpoint");
    char *logp = cm_path_join(output, "train_log.tsv"), *headp = cm_path_join(output, "1_Head");
    int rc = cache && ckpt && logp && headp ? CM_OK : CM_ERR_NOMEM;
    if (rc == CM_OK) rc = cm_mkdir_p(output);
    if (rc == CM_OK) rc = cm_pooler_backbone_open(&bb, backbone, &ep);
    /* --epochs 0 writes the seed's initialisation: no step reads the data, so neither mining nor states run */
    for (int i = 0; rc == CM_OK && tp.epochs > 0 && i < n_train; i++) rc = cm_train_set_add(&set, train[i], bb, &mp);
    if (rc == CM_OK && tp.epochs > 0)
        rc = cm_pooler_states_get(bb, (const char *const *)set.texts, set.roles, set.n, instruction, cache, &st);
    if (rc == CM_OK) {
        hp.d = cm_pooler_backbone_dim(bb);
        rc = init ? load_init(init, &hp, &h) : cm_head_init(&h, &hp);
    }
    double first = NAN, last = NAN;
    tp.checkpoint_dir = ckpt;
    tp.log_path = logp;
    if (rc == CM_OK && tp.epochs > 0) {
        fprintf(stderr, "train-pooler: %zu examples, %zu texts, %s head (%zu parameters), %zu hard negatives each\n",
                set.n_ex, set.n, cm_head_kind_name(hp.kind), cm_head_n_params(h), tp.k);
        rc = cm_pooler_train(h, &st, set.ex, set.n_ex, &tp, &first, &last);
    }
    size_t B = tp.batch < set.n_ex ? tp.batch : set.n_ex;
    long steps = B ? (long)(set.n_ex / B) * tp.epochs : 0;
    if (tp.max_steps > 0 && tp.max_steps < steps) steps = tp.max_steps;
    if (rc == CM_OK) rc = cm_head_save(h, headp);
    /* train.json's epoch means cover every run of a resumed training (the log has them all), not this run's */
    double log_first = first, log_last = last;
    if (rc == CM_OK && steps > 0 && cm_file_exists(logp)) rc = cm_pooler_log_means(logp, &log_first, &log_last);
    if (rc == CM_OK)
        rc = write_folder(output, backbone, ep.attention, qtmpl, max_length, h, log_first, log_last, steps, set.n_ex,
                          train, n_train, init);
    if (rc == CM_OK && steps == 0 && init)   /* --epochs 0: no loss to report */
        printf("%s head copied from --init %s (no training step); model folder %s\n", cm_head_kind_name(hp.kind),
               init, output);
    else if (rc == CM_OK && steps == 0)
        printf("untrained %s head (the seed-%llu initialisation, no training step); model folder %s\n",
               cm_head_kind_name(hp.kind), (unsigned long long)hp.seed, output);
    else if (rc == CM_OK && isnan(first))   /* resumed from a checkpoint of the last step: no loss this run */
        printf("trained %s head: %ld steps, all done before this run (resumed from %s); model folder %s\n",
               cm_head_kind_name(hp.kind), steps, ckpt, output);
    else if (rc == CM_OK)
        printf("trained %s head: %ld steps, mean loss %.4f (first epoch run) -> %.4f (last); model folder %s\n",
               cm_head_kind_name(hp.kind), steps, first, last, output);
    cm_head_free(h);
    cm_pooler_states_free(&st);
    cm_train_set_free(&set);
    cm_pooler_backbone_free(bb);
    free(cache); free(ckpt); free(logp); free(headp); free(backbone);
    if (rc == CM_ERR_INTERRUPTED) {
        fprintf(stderr, "cmteb train-pooler: %s; run the same command again to resume\n", cm_last_error());
        return 130;
    }
    return rc ? cm_cli_fail("train-pooler", NULL) : 0;
}
