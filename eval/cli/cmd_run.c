/* cmd_run.c: `cmteb run`, evaluating a model on tasks (see eval/run.h). */
#include "eval/cli/cli.h"
#include "cmteb/interrupt.h"
#include "eval/run.h"
#include "eval/shard.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/hub.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/task.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: cmteb run [--model SPEC] (--tasks A,B | --benchmark NAME | --task-file FILE ...) [options]\n"
        "\n"
        "Evaluates a model and writes one MTEB-format JSON per task to\n"
        "OUTPUT/<org>__<model>/<revision>/<Task>.json. Tasks whose result exists are skipped\n"
        "(an interrupted run resumes); embeddings are cached so nothing is embedded twice.\n"
        "\n"
        "model:\n"
        "  --model SPEC           hash[:DIM] (default), glove:PATH, precomputed:DIR, hf:PATH,\n"
        "                         openai:URL[#MODEL]\n"
        "  --model-name ORG/NAME  name the results are filed under (default: from the model)\n"
        "  --instructions | --no-instructions\n"
        "                         pass task instructions to the model (default: as the model says)\n"
        "  --pooling cls|mean|last|weightedmean|max|mean_sqrt_len|latent   --attention bidirectional|causal\n"
        "  --normalize | --no-normalize   --max-length N   --dim N   --query-template TEXT\n"
        "  --document-template TEXT       --pool-instruction | --no-pool-instruction\n"
        "  --device auto|cpu|cuda|cuda:N|cuda:0,1,...\n"
        "                         where the hf engine runs (default auto: every visible GPU when built\n"
        "                         with CUDA, else the CPU; other backends run on the CPU)\n"
        "  --dtype T              the engine's compute dtype. CPU: fp32 (default), bf16 (bf16 weights and\n"
        "                         activations into the products, fp32 sums) or int8 (weights per channel,\n"
        "                         activations per token, int32 sums); GPU: bf16 (default), fp16 or fp32\n"
        "tasks:\n"
        "  --tasks A,B            task names (see cmteb list)\n"
        "  --benchmark NAME       \"MTEB(eng, v1)\" or demo\n"
        "  --task-file FILE       a user-defined task (JSON; repeatable); runs its tasks unless\n"
        "                         --tasks/--benchmark picks others\n"
        "  --type TYPE            keep only tasks of this type\n"
        "data and output:\n"
        "  --data-dir DIR         hub downloads (DIR/mteb/<dataset>/...; default: data); a dataset not\n"
        "                         there is read from the huggingface_hub cache at its pinned revision\n"
        "  --fetch                first download the tasks' missing files from the hub (cmteb fetch)\n"
        "  --output DIR           results root (default: results)\n"
        "  --cache-dir DIR        embedding cache (default: OUTPUT/.cache)   --no-cache\n"
        "  --overwrite            re-evaluate tasks whose result exists\n"
        "  --no-items             do not write per-item side files (.cmteb/<Task>.items.json)\n"
        "evaluators:\n"
        "  --retrieval-index FACTORY   FAISS index for retrieval (default Flat; e.g. HNSW32, IVF4096,Flat)\n"
        "  --retrieval-index-params P  FAISS search parameters, e.g. nprobe=64 or efSearch=256\n"
        "  --corpus-chunk-size N       documents embedded and searched at a time (default 50000)\n"
        "  --mem-budget SIZE           retrieval: memory for query vectors, top-k heaps and document\n"
        "                              chunks (e.g. 2G); the chunk size is derived from it (the model's\n"
        "                              own memory is not included)\n"
        "  --save-predictions          retrieval: write each query's top hits as a TREC run file,\n"
        "                              MODEL_DIR/predictions/<Task>.<split>.trec (top 100)\n"
        "  --predictions-top-k N       hits per query in those files (implies --save-predictions)\n"
        "  --clustering-protocol v1|fast\n"
        "scale-out:\n"
        "  --shard I/N            shard I of N (0-based): retrieval tasks embed and search only the\n"
        "                         I-th contiguous slice of each corpus and write top-k hits; the other\n"
        "                         tasks embed the I-th hash slice of their texts. One --output folder\n"
        "                         per shard, then `cmteb merge DIR...` writes the single run's files.\n"
        "                         Under mpirun (a build with MPI) rank I runs as shard I/N into\n"
        "                         OUTPUT/.shards/ and rank 0 merges into OUTPUT.\n"
        "performance:\n"
        "  --batch-size N  --threads N\n"
        "  --quiet                no progress output\n");
}

int cm_cmd_run(int argc, char **argv) {
    const char *model = "hash";
    cm_cli_tasks ts = {0};
    const char *data_dir = getenv("CMTEB_DATA_DIR"), *output = "results", *cache_dir = NULL;
    const char *clustering_protocol = NULL, *shard = NULL;
    long corpus_chunk = 0, predictions_k = 0;
    double mem_budget = 0;
    int no_cache = 0, bad = 0, fetch = 0;
    cm_encoder_params ep = cm_encoder_default_params();
    cm_embedder_params mp = cm_embedder_default_params();
    cm_run_params rp = cm_run_default_params();
    if (!data_dir) data_dir = "data";

    for (int i = 1; i < argc && !bad; i++) {
        const char *v = NULL;
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); return 0; }
        else if (cm_opt_value(argc, argv, &i, "--model", &model, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--model-name", &ep.model_name, &bad)) {}
        else if (cm_opt_tasks(argc, argv, &i, &ts, &bad)) {}
        else if (cm_opt_engine(argc, argv, &i, &ep, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--data-dir", &data_dir, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--output", &output, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--shard", &shard, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--cache-dir", &cache_dir, &bad)) {}
        else if (cm_opt_flag(argv, i, "--no-cache")) no_cache = 1;
        else if (cm_opt_flag(argv, i, "--fetch")) fetch = 1;
        else if (cm_opt_flag(argv, i, "--overwrite")) rp.overwrite = 1;
        else if (cm_opt_flag(argv, i, "--no-items")) rp.keep_items = 0;
        else if (cm_opt_flag(argv, i, "--quiet") || cm_opt_flag(argv, i, "-q")) {
            mp.quiet = 1;
            rp.quiet = 1;
            ep.quiet = 1;
        } else if (cm_opt_flag(argv, i, "--instructions"))
            mp.use_instructions = 1;
        else if (cm_opt_flag(argv, i, "--no-instructions")) mp.use_instructions = 0;
        else if (cm_opt_value(argc, argv, &i, "--retrieval-index", &rp.eval_options.retrieval_index, &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--retrieval-index-params", &rp.eval_options.retrieval_index_params,
                                &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--clustering-protocol", &clustering_protocol, &bad)) {
        } else if (cm_opt_value(argc, argv, &i, "--corpus-chunk-size", &v, &bad)) {
            corpus_chunk = v ? cm_opt_long("--corpus-chunk-size", v) : -1;
            if (corpus_chunk <= 0) {
                if (corpus_chunk == 0) fprintf(stderr, "cmteb: --corpus-chunk-size must be at least 1\n");
                return 2;
            }
        } else if (cm_opt_flag(argv, i, "--save-predictions")) {
            if (!predictions_k) predictions_k = 100;
        } else if (cm_opt_value(argc, argv, &i, "--mem-budget", &v, &bad)) {
            mem_budget = v ? cm_opt_bytes("--mem-budget", v) : -1;
            if (mem_budget < 0) return 2;
        } else if (cm_opt_value(argc, argv, &i, "--predictions-top-k", &v, &bad)) {
            predictions_k = v ? cm_opt_long("--predictions-top-k", v) : -1;
            if (predictions_k <= 0) {
                if (predictions_k == 0) fprintf(stderr, "cmteb: --predictions-top-k must be at least 1\n");
                return 2;
            }
        } else if (cm_opt_value(argc, argv, &i, "--batch-size", &v, &bad)) {
            long x = v ? cm_opt_long("--batch-size", v) : -1;
            if (x <= 0) { if (x == 0) fprintf(stderr, "cmteb: --batch-size must be at least 1\n"); return 2; }
            ep.batch_size = (int)x;
            mp.batch_size = (int)x;
            rp.batch_size = (int)x;
        } else if (cm_opt_value(argc, argv, &i, "--threads", &v, &bad)) {
            long x = v ? cm_opt_long("--threads", v) : -1;
            if (x < 0) return 2;
            ep.threads = (int)x;
            rp.threads = (int)x;
        } else {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            return cm_cli_usage_error("run", msg);
        }
    }
    if (bad) return 2;
    if (!ts.tasks && !ts.benchmark && !ts.n_files)
        return cm_cli_usage_error("run", "say which tasks: --tasks A,B, --benchmark NAME or --task-file FILE");
    if (clustering_protocol) {
        cm_clustering_protocol proto;
        if (cm_clustering_protocol_parse(clustering_protocol, &proto))
            return cm_cli_usage_error("run", "--clustering-protocol expects v1 or fast");
        rp.eval_options.clustering_protocol = (int)proto;
    }
    rp.eval_options.corpus_chunk_size = corpus_chunk > 0 ? (size_t)corpus_chunk : 0;
    rp.eval_options.predictions_top_k = predictions_k > 0 ? (size_t)predictions_k : 0;
    rp.eval_options.mem_budget = mem_budget > 0 ? (size_t)mem_budget : 0;
    if (shard && cm_shard_parse(shard, &rp.shard_index, &rp.shard_count))
        return cm_cli_usage_error("run", cm_last_error());
    /* mpirun: rank I of N runs as shard I/N into OUTPUT/.shards/I-of-N; rank 0 merges into OUTPUT */
    long world = 0, world_rank = 0;
    int mpi = 0;
    char *shard_out = NULL;
    if (!shard && cm_cli_mpi_launched(&world, &world_rank)) {
        if (!cm_cli_mpi_available()) {
            fprintf(stderr, "cmteb run: launched as rank %ld of %ld (mpirun/srun), but this cmteb was built without "
                    "MPI: every rank would run the whole benchmark\n", world_rank, world);
            fprintf(stderr, "HINT: rebuild with Open MPI (apt-get install libopenmpi-dev openmpi-bin; cmake finds it), "
                    "or give each rank --shard RANK/N and its own --output, then cmteb merge\n");
            return 1;
        }
        if (cm_cli_mpi_begin(&rp.shard_index, &rp.shard_count)) return cm_cli_fail("run", NULL);
        mpi = 1;
        shard_out = cm_asprintf("%s/.shards/%zu-of-%zu", output, rp.shard_index, rp.shard_count);
        if (!shard_out) {
            cm_cli_mpi_all_ok(0);
            cm_cli_mpi_end();
            return cm_cli_fail("run", NULL);
        }
    }
    const char *run_output = mpi ? shard_out : output;

    int rc = CM_OK, exit_code = 1;
    cm_catalog *cat = NULL;
    cm_encoder *enc = NULL;
    cm_embedder *emb = NULL;
    const cm_task **sel = NULL;
    size_t n_sel = 0;
    char *default_cache = NULL;
    cJSON *settings = cJSON_CreateObject();
    cm_run_summary sum = {0};

    if ((rc = cm_cli_select_tasks(&ts, &cat, &sel, &n_sel))) goto fail;
    if (fetch) {   /* --fetch: the tasks' data first (a failure stops before the model loads) */
        cm_hub_params hp = cm_hub_default_params();
        cm_hub_fetch_stats fst;
        hp.data_dir = data_dir;
        hp.quiet = rp.quiet;
        cm_interrupt_install();
        if ((rc = cm_hub_fetch_tasks(sel, n_sel, &hp, &fst))) {
            if (rc == CM_ERR_INTERRUPTED) {
                fprintf(stderr, "cmteb run: interrupted while fetching; finished files are kept\n");
                exit_code = 130;
                goto done;
            }
            goto fail;
        }
    }

    if ((rc = cm_encoder_init(&enc, model, &ep))) goto fail;
    if (!no_cache && !cache_dir && cm_encoder_get_info(enc)->stored) {
        /* vectors read from a store (precomputed:) are not copied into a default cache: --cache-dir keeps one */
        if (!rp.quiet) cm_log(CM_LOG_INFO, "%s: vectors are read from their store; no embedding cache (--cache-dir "
                              "DIR keeps one)", cm_encoder_get_info(enc)->name);
    } else if (!no_cache) {
        if (!cache_dir) cache_dir = default_cache = cm_path_join(run_output, ".cache");
        mp.cache_dir = cache_dir;
    }
    if ((rc = cm_embedder_init(&emb, enc, &mp))) goto fail;

    if (mem_budget > 0 && corpus_chunk > 0)
        fprintf(stderr, "cmteb: note: --corpus-chunk-size %ld is used as given; --mem-budget does not change it\n",
                corpus_chunk);
    if (ep.pooling) cJSON_AddStringToObject(settings, "pooling", ep.pooling);
    if (ep.attention) cJSON_AddStringToObject(settings, "attention", ep.attention);
    if (ep.normalize >= 0) cJSON_AddBoolToObject(settings, "normalize", ep.normalize);
    if (ep.max_length) cJSON_AddNumberToObject(settings, "max_length", ep.max_length);
    if (ep.dim) cJSON_AddNumberToObject(settings, "dim", ep.dim);
    if (ep.dtype) cJSON_AddStringToObject(settings, "dtype", ep.dtype);
    if (ep.pool_instruction >= 0) cJSON_AddBoolToObject(settings, "pool_instruction", ep.pool_instruction);
    if (ep.query_template) cJSON_AddStringToObject(settings, "query_template", ep.query_template);
    if (ep.document_template) cJSON_AddStringToObject(settings, "document_template", ep.document_template);
    if (mp.use_instructions >= 0) cJSON_AddBoolToObject(settings, "use_instructions", mp.use_instructions);
    rp.data_dir = data_dir;
    rp.output_dir = run_output;
    rp.model_spec = model;
    rp.settings = settings;
    cm_interrupt_install();
    if ((rc = cm_run_tasks(emb, sel, n_sel, &rp, &sum))) goto fail;
    cm_embedder_stats st = cm_embedder_get_stats(emb);
    if (rp.shard_count) printf("\nShard %zu of %zu", rp.shard_index, rp.shard_count);
    printf("\nModel %s -> %s\n\n", cm_encoder_get_info(enc)->name, sum.model_dir);
    cm_run_print_table(&sum, stdout);
    printf("\nTexts: %zu requested, %zu unique, %zu from the cache, %zu embedded (%.1fs in the encoder)\n",
           st.requested, st.unique, st.cache_hits, st.encoded, st.encode_seconds);
    exit_code = sum.n_failed ? 1 : 0;
    if (sum.interrupted) {
        fprintf(stderr, "cmteb run: interrupted; finished results and cached embeddings are kept, "
                        "run the same command again to resume\n");
        exit_code = 130;
    }
    if (sum.n_failed) fprintf(stderr, "cmteb run: %zu of %zu tasks failed\n", sum.n_failed, sum.n);
    goto done;
fail:
    exit_code = cm_cli_fail(
        "run", rc == CM_ERR_NOTFOUND ? "see 'cmteb list' for tasks and whether their data is present" : NULL);
done:
    cm_run_summary_free(&sum);
    if (mpi) {   /* every rank meets here once; rank 0 merges when all shards succeeded */
        int all_ok = cm_cli_mpi_all_ok(exit_code == 0);
        if (rp.shard_index == 0 && all_ok) {
            const char **dirs = cm_calloc(rp.shard_count, sizeof *dirs);
            int bad_dir = !dirs;
            for (size_t k = 0; k < rp.shard_count && !bad_dir; k++)
                bad_dir = !(dirs[k] = cm_asprintf("%s/.shards/%zu-of-%zu", output, k, rp.shard_count));
            cm_merge_params mgp = cm_merge_default_params();
            mgp.output_dir = output;
            mgp.threads = rp.threads;
            mgp.quiet = rp.quiet;
            exit_code = bad_dir ? cm_cli_fail("run", NULL) : cm_cli_merge_dirs(dirs, rp.shard_count, &mgp);
            for (size_t k = 0; dirs && k < rp.shard_count; k++) free((void *)dirs[k]);
            free(dirs);
        } else if (rp.shard_index == 0) {
            fprintf(stderr, "cmteb run: not merged: a shard failed (see its messages); rerun the same command to "
                            "resume\n");
            if (!exit_code) exit_code = 1;
        }
        cm_cli_mpi_end();
    }
    free(shard_out);
    cm_embedder_free(emb);
    cm_encoder_free(enc);
    free((void *)sel);
    free(default_cache);
    cJSON_Delete(settings);
    cm_catalog_free(cat);
    return exit_code;
}
