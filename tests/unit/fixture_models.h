/*
 * fixture_models.h: walks every model folder with weights under
 * tests/fixtures/hf and tests/fixtures/dec (config.json plus
 * model.safetensors or a sharded index), in name order, for the tests that
 * check an engine path on all of them (test_gpu_parity, test_cpu_dtype).
 * Include after check.h.
 */
#ifndef CMTEB_TEST_FIXTURE_MODELS_H
#define CMTEB_TEST_FIXTURE_MODELS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int fixture_has_weights(const char *dir) {
    char p[8600];
    struct stat sb;
    snprintf(p, sizeof p, "%s/config.json", dir);
    if (stat(p, &sb) != 0) return 0;
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    if (stat(p, &sb) == 0) return 1;
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    return stat(p, &sb) == 0;
}

/* Calls fn(dir, name) for each fixture model (its name printed first) and
 * returns how many there were; a missing fixture root fails a CHECK. */
static size_t fixture_models_each(void (*fn)(const char *dir, const char *name)) {
    static const char *const roots[] = {"tests/fixtures/hf", "tests/fixtures/dec"};
    size_t models = 0;
    for (size_t ri = 0; ri < sizeof roots / sizeof roots[0]; ri++) {
        char root[4096];
        snprintf(root, sizeof root, "%s/%s", check_env("CMTEB_SRC"), roots[ri]);
        struct dirent **ents = NULL;
        int ne = scandir(root, &ents, NULL, alphasort);
        CHECK(ne > 0);
        for (int i = 0; i < ne; i++) {
            char dir[8400];
            snprintf(dir, sizeof dir, "%s/%s", root, ents[i]->d_name);
            if (ents[i]->d_name[0] != '.' && fixture_has_weights(dir)) {
                printf("%s\n", ents[i]->d_name);
                fflush(stdout);
                fn(dir, ents[i]->d_name);
                models++;
            }
            free(ents[i]);
        }
        free(ents);
    }
    return models;
}

#endif
