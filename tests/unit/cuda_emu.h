/*
 * cuda_emu.h: runs CUDA kernel source on the host, for tests of the engine's
 * kernels on machines without a GPU (tests/unit/test_cuda_emu_*.cpp).
 *
 * Include it first, then the kernel headers (engine/cuda/gpu_*kernel*.cuh): the
 * CUDA headers are read for their host parts (types, bf16/fp16 conversions),
 * then __global__ / __device__ / __shared__ become plain C++ and the builtins
 * (threadIdx, blockIdx, blockDim, gridDim, __syncthreads, __shfl_xor_sync)
 * are provided here. emu_launch(grid, block, fn) runs the blocks one after
 * the other; the threads of a block are cooperative fibers (ucontext) that
 * switch only at __syncthreads and warp shuffles, so __shared__ (a function
 * static here) is shared by the block, and:
 *   - __syncthreads completes when every thread of the block still running
 *     has reached it (exited threads count as arrived, as on Volta and later);
 *   - a shuffle completes when every lane of its mask has reached a shuffle
 *     with the same mask and offset; a lane of the mask that has exited, or a
 *     block where no thread can go on (a __syncthreads some threads never
 *     reach, a shuffle some lanes never reach), is reported as an error
 *     (emu_errors counts them; the test fails).
 * Global memory is the host's: give kernels exactly sized heap buffers and
 * the sanitizer build catches any index past their ends.
 * Ownership: emu_launch owns the fibers and their stacks for one launch.
 */
#ifndef CMTEB_TESTS_CUDA_EMU_H
#define CMTEB_TESTS_CUDA_EMU_H

#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cublas_v2.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <algorithm>
#include <functional>
#include <vector>

#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __forceinline__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __forceinline__ inline
#define __launch_bounds__(...)

using std::max;
using std::min;

static uint3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;
static int emu_errors;

typedef enum { EMU_RUN, EMU_BAR, EMU_SHFL, EMU_DONE } emu_state;

typedef struct emu_thread {
    ucontext_t ctx;
    emu_state  st;
    unsigned   mask;
    int        lanemask;
    double     val, res;   /* the shuffled value (any type up to 8 bytes, as its bits) */
} emu_thread;

static std::vector<emu_thread> emu_th;
static ucontext_t emu_sched;
static int emu_cur;
static const std::function<void()> *emu_body;

static void emu_yield(void) { swapcontext(&emu_th[emu_cur].ctx, &emu_sched); }

static inline void __syncthreads(void) {
    emu_th[emu_cur].st = EMU_BAR;
    emu_yield();
}

template <typename V> static inline V __shfl_xor_sync(unsigned mask, V v, int lanemask) {
    static_assert(sizeof(V) <= sizeof(double), "shuffle of a value wider than 8 bytes");
    emu_thread *t = &emu_th[emu_cur];
    t->st = EMU_SHFL;
    t->mask = mask;
    t->lanemask = lanemask;
    memset(&t->val, 0, sizeof t->val);
    memcpy(&t->val, &v, sizeof v);
    emu_yield();
    V r;
    memcpy(&r, &emu_th[emu_cur].res, sizeof r);
    return r;
}

/* Threads run one at a time and switch only at barriers and shuffles, so a plain add is atomic here. */
static inline double atomicAdd(double *a, double v) {
    double old = *a;
    *a = old + v;
    return old;
}
static inline float atomicAdd(float *a, float v) {
    float old = *a;
    *a = old + v;
    return old;
}

static void emu_entry(void) {
    (*emu_body)();
    emu_th[emu_cur].st = EMU_DONE;
    swapcontext(&emu_th[emu_cur].ctx, &emu_sched);
}

static void emu_fail(const char *what) {
    fprintf(stderr, "cuda_emu: block (%u, %u, %u): %s\n", blockIdx.x, blockIdx.y, blockIdx.z, what);
    emu_errors++;
}

/* Completes the shuffles of warp w whose lanes have all arrived; 1 when one completed. */
static int emu_warp_step(size_t w, size_t nthreads) {
    size_t l0 = w * 32, l1 = std::min(nthreads, l0 + 32);
    unsigned mask = 0;
    int lm = 0, any = 0;
    for (size_t i = l0; i < l1; i++)
        if (emu_th[i].st == EMU_SHFL) {
            mask = emu_th[i].mask;
            lm = emu_th[i].lanemask;
            any = 1;
            break;
        }
    if (!any) return 0;
    for (size_t lane = 0; lane < 32; lane++) {
        if (!(mask >> lane & 1u)) continue;
        size_t i = l0 + lane;
        if (i >= l1) { emu_fail("shuffle mask names a lane past the end of the block"); return -1; }
        if (emu_th[i].st == EMU_DONE) { emu_fail("shuffle mask names a lane that has exited"); return -1; }
        if (emu_th[i].st != EMU_SHFL) return 0;   /* not arrived yet */
        if (emu_th[i].mask != mask || emu_th[i].lanemask != lm) {
            emu_fail("lanes of one warp shuffle with different masks or offsets");
            return -1;
        }
    }
    for (size_t lane = 0; lane < 32; lane++)
        if (mask >> lane & 1u) {
            size_t src = l0 + ((size_t)lane ^ (size_t)lm);
            emu_th[l0 + lane].res = src < l1 && (mask >> (lane ^ (size_t)lm) & 1u) ? emu_th[src].val
                                                                                   : emu_th[l0 + lane].val;
            emu_th[l0 + lane].st = EMU_RUN;
        }
    return 1;
}

/* Sets thread i up as a fiber on its own stack (apart: getcontext must not share a frame with loop variables). */
static void __attribute__((noinline)) emu_make_fiber(size_t i, char *stack, size_t bytes) {
    emu_thread *t = &emu_th[i];
    memset(t, 0, sizeof *t);
    getcontext(&t->ctx);
    t->ctx.uc_stack.ss_sp = stack;
    t->ctx.uc_stack.ss_size = bytes;
    t->ctx.uc_link = &emu_sched;
    makecontext(&t->ctx, emu_entry, 0);
    t->st = EMU_RUN;
}

/* Runs the current block (blockIdx set) to its end; 0, or -1 after an emulator error. */
static int emu_run_block(size_t nthreads, dim3 block) {
    for (;;) {
        for (size_t i = 0; i < nthreads; i++) {
            if (emu_th[i].st != EMU_RUN) continue;
            emu_cur = (int)i;
            threadIdx = make_uint3((unsigned)(i % block.x), (unsigned)(i / block.x % block.y),
                                   (unsigned)(i / ((size_t)block.x * block.y)));
            swapcontext(&emu_sched, &emu_th[i].ctx);
        }
        for (size_t w = 0; w * 32 < nthreads; w++)
            if (emu_warp_step(w, nthreads) < 0) return -1;
        size_t live = 0, at_bar = 0, runnable = 0;
        for (size_t i = 0; i < nthreads; i++) {
            live += emu_th[i].st != EMU_DONE;
            at_bar += emu_th[i].st == EMU_BAR;
            runnable += emu_th[i].st == EMU_RUN;
        }
        if (!live) return 0;
        if (at_bar == live) {
            for (size_t i = 0; i < nthreads; i++) emu_th[i].st = emu_th[i].st == EMU_BAR ? EMU_RUN : emu_th[i].st;
        } else if (!runnable) {   /* everyone waits, not all at one barrier: nothing can change */
            emu_fail("deadlock: a __syncthreads or shuffle that not every thread reaches");
            return -1;
        }
    }
}

/* Runs body as the kernel over grid x block (blocks in order, threads as fibers). */
static void emu_launch(dim3 grid, dim3 block, const std::function<void()> &body) {
    size_t nthreads = (size_t)block.x * block.y * block.z;
    if (nthreads == 0 || nthreads > 1024) { emu_fail("block size outside 1..1024"); return; }
    gridDim = grid;
    blockDim = block;
    emu_body = &body;
    emu_th.assign(nthreads, emu_thread());
    const size_t STACK = 256 << 10;
    std::vector<char> stacks(nthreads * STACK);
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                blockIdx = make_uint3(bx, by, bz);
                for (size_t i = 0; i < nthreads; i++) emu_make_fiber(i, &stacks[i * STACK], STACK);
                if (emu_run_block(nthreads, block) < 0) return;
            }
}

#endif
