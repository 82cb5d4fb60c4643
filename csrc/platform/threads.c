/* sched_getaffinity, the CPUs this process may run on, is a GNU extension */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include "threads.h"

#include <stdlib.h>

#include "thread_pool.h"

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

static int requested_threads = 0; /* 0: not decided yet */

/* Below this many multiply-adds per thread a second thread costs more than
 * it saves: waking it, the closing wait, and the output it wrote moving to
 * the other core's cache for the next step. A small step kept on the caller
 * pays that move too, since its input was written by both cores, so within a
 * model large enough to share (edgeinfer/native/work.py decides: small models
 * run on one thread) nearly every step is split. Measured at two threads on
 * the 2-core Xeon (load average 0.7-1.3, the measuring process included),
 * whole models, gates taking turns in blocks of five runs in one process,
 * native two-thread time / onnxruntime's: EfficientNet-Lite0 1.30x at
 * 1 000 000, 1.25x at 100 000, 1.15x at 50 000, 1.11x at 0; MobileNetV2
 * 1.44x, 1.21x, 1.14x, 1.19x; int8 EfficientNet-Lite0 1.26x, 1.14x, 1.14x,
 * 1.13x. (The pool's step costs 0.15 us; OpenMP's cost 9-11 us, which is
 * what the old gate of 1 000 000 was measured against.) */
#define DEFAULT_WORK_PER_THREAD 50000.0
static double work_per_thread = DEFAULT_WORK_PER_THREAD;

int ei_threads_enabled(void)
{
    return ei_pool_threads_enabled();
}

/* The cores this process may run on (a container or `taskset` may give it
 * fewer than the machine has). */
static int available_cores(void)
{
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
#endif
#if defined(_SC_NPROCESSORS_ONLN)
    {
        const long online = sysconf(_SC_NPROCESSORS_ONLN);
        if (online > 0)
            return online < EI_MAX_THREADS ? (int)online : EI_MAX_THREADS;
    }
#endif
    return 1;
}

static int threads_from(const char *name)
{
    const char *env = getenv(name);
    return env != NULL ? atoi(env) : 0; /* OMP_NUM_THREADS may list more: the first counts */
}

static int default_threads(void)
{
    int n = threads_from("EDGEINFER_NUM_THREADS");
    if (n <= 0)
        n = threads_from("OMP_NUM_THREADS");
    if (n <= 0)
        n = available_cores();
    return n;
}

int ei_get_num_threads(void)
{
    if (!ei_threads_enabled())
        return 1;
    if (requested_threads <= 0)
        requested_threads = default_threads();
    return requested_threads < EI_MAX_THREADS ? requested_threads : EI_MAX_THREADS;
}

void ei_set_num_threads(int n)
{
    requested_threads = n > 0 ? n : default_threads();
}

double ei_set_work_per_thread(double n)
{
    const double last = work_per_thread;
    work_per_thread = n < 0.0 ? DEFAULT_WORK_PER_THREAD : n;
    return last;
}

int ei_threads_for(double items, double work_per_item)
{
    int threads = ei_get_num_threads();
    if (work_per_thread > 0.0) {
        const double useful = items * work_per_item / work_per_thread;
        if (useful < threads)
            threads = (int)useful;
    }
    if (threads > items)
        threads = (int)items;
    return threads < 1 ? 1 : threads;
}

int ei_even_parts(int items, int threads, int most)
{
    int parts = 1;
    if (threads > 1 && items % threads != 0 && items < 8 * threads)
        while (parts < most && items * parts % threads != 0)
            parts++;
    return parts;
}
