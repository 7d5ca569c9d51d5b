/*
 * gpu_blas.cu: cuBLAS loaded on first use (dlopen) instead of linked: the
 * library's start-up initialisation costs about 0.1 s in every process that
 * links it (measured with an empty program on the build machine), which
 * every cmteb command would pay, GPU or not. gpu_blas_load resolves the few
 * entry points the engine calls into gpu_blas (gpu_internal.cuh) once per
 * process, thread-safely.
 */
#include "engine/cuda/gpu_internal.cuh"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define GPU_STR_(x) #x
#define GPU_STR(x) GPU_STR_(x)   /* expands cublas_v2.h's macros: cublasCreate -> "cublasCreate_v2" */

gpu_blas_api gpu_blas;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc = -1;
static char load_msg[768];

static void load(void) {
    static const char *const names[] = {"libcublas.so." GPU_STR(CUBLAS_VER_MAJOR), CMTEB_CUBLAS_DIR "/libcublas.so."
                                        GPU_STR(CUBLAS_VER_MAJOR), "libcublas.so"};
    void *h = NULL;
    const char *err = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) {
        h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) err = dlerror();
    }
    if (!h) {
        snprintf(load_msg, sizeof load_msg, "cannot load cuBLAS (%s, also tried %s): %s", names[0], names[1],
                 err ? err : "?");
        return;
    }
#define GPU_BLAS_RESOLVE(f)                                                                                    \
    gpu_blas.f = (decltype(gpu_blas.f))dlsym(h, GPU_STR(f));                                                   \
    if (!gpu_blas.f) {                                                                                         \
        snprintf(load_msg, sizeof load_msg, "cuBLAS (%s) has no %s", names[0], GPU_STR(f));                    \
        return;                                                                                                \
    }
    GPU_BLAS_FUNCTIONS(GPU_BLAS_RESOLVE)
#undef GPU_BLAS_RESOLVE
    load_rc = CM_OK;   /* the handle stays open for the life of the process */
}

int gpu_blas_load(void) {
    pthread_once(&once, load);
    if (load_rc != CM_OK) return cm_error(CM_ERR_UNSUPPORTED, "%s", load_msg);
    return CM_OK;
}
