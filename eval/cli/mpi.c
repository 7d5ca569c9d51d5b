/*
 * mpi.c: the thin MPI layer of `mpirun -np N cmteb run ...` (see cli.h).
 *
 * Built with Open MPI (CMake finds it: CMTEB_HAVE_MPI), a run launched by
 * mpirun calls MPI_Init, runs rank i as shard i/N and meets the other ranks
 * in one MPI_Allreduce (every shard's status) before rank 0 merges. Without
 * MPI in the build, a launch under mpirun is refused instead of silently
 * running N full copies of the benchmark.
 */
#include "eval/cli/cli.h"
#include "cmteb/status.h"

#include <stdlib.h>
#include <string.h>

#ifdef CMTEB_HAVE_MPI
#include <mpi.h>
#endif

/* The launcher's world size and rank from its environment: Open MPI, then PMI/PMIx (MPICH, Slurm's srun --mpi). */
int cm_cli_mpi_launched(long *size, long *rank) {
    static const char *const sizes[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"};
    static const char *const ranks[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "MPI_LOCALRANKID"};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const char *s = getenv(sizes[k]), *r = getenv(ranks[k]);
        if (!s) continue;
        *size = strtol(s, NULL, 10);
        *rank = r ? strtol(r, NULL, 10) : -1;
        if (*size > 1) return 1;
    }
    /* PMIx exports the rank but not always the size */
    const char *pr = getenv("PMIX_RANK");
    if (pr && strtol(pr, NULL, 10) > 0) {
        *size = -1;
        *rank = strtol(pr, NULL, 10);
        return 1;
    }
    return 0;
}

int cm_cli_mpi_available(void) {
#ifdef CMTEB_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

int cm_cli_mpi_begin(size_t *rank, size_t *size) {
#ifdef CMTEB_HAVE_MPI
    int r = 0, n = 0;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return cm_error(CM_ERR_INTERNAL, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    *rank = (size_t)r;
    *size = (size_t)n;
    return CM_OK;
#else
    (void)rank;
    (void)size;
    return cm_error(CM_ERR_UNSUPPORTED, "this cmteb was built without MPI");
#endif
}

int cm_cli_mpi_all_ok(int ok) {
#ifdef CMTEB_HAVE_MPI
    int mine = ok ? 1 : 0, all = 0;
    if (MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS) return 0;
    return all;
#else
    return ok;
#endif
}

void cm_cli_mpi_end(void) {
#ifdef CMTEB_HAVE_MPI
    MPI_Finalize();
#endif
}
