#include "threads.h"

#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static int requested_threads = 0; /* 0: not decided yet */

int ei_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

static int default_threads(void)
{
    const char *env = getenv("EDGEINFER_NUM_THREADS");
    if (env != NULL) {
        int n = atoi(env);
        if (n > 0)
            return n;
    }
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int ei_get_num_threads(void)
{
    if (!ei_openmp_enabled())
        return 1;
    if (requested_threads <= 0)
        requested_threads = default_threads();
    return requested_threads;
}

void ei_set_num_threads(int n)
{
    requested_threads = n > 0 ? n : default_threads();
}
