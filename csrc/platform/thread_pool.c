/* pthreads, clock_gettime and sched_yield are POSIX, not C99; syscall (the
 * futex on Linux) is a GNU extension */
#if defined(__linux__)
#define _GNU_SOURCE
#else
#define _POSIX_C_SOURCE 200112L
#endif

#include "thread_pool.h"

#if defined(__GNUC__) && !defined(_WIN32) && !defined(EI_NO_THREADS)
#define EI_POOL_THREADS 1
#else
#define EI_POOL_THREADS 0
#endif

/* Every task on the calling thread: no pool, or the pool busy. */
static int run_here(int tasks, ei_task_fn fn, void *ctx)
{
    int task, status = 0;
    for (task = 0; task < tasks; task++) {
        const int result = fn(ctx, task, 0);
        if (result < status)
            status = result;
    }
    return status;
}

int ei_pool_threads_enabled(void)
{
    return EI_POOL_THREADS;
}

#if EI_POOL_THREADS
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#if defined(__linux__)
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#define EI_POOL_FUTEX 1
#else
#define EI_POOL_FUTEX 0
#endif

#define MAX_WORKERS (EI_MAX_THREADS - 1)

/* Spin this long after a step before sleeping: the gap between two steps of
 * a model (the Python between two kernels) is shorter, so the next step
 * finds its workers awake; the gap between two frames is far longer, so an
 * idle process, or the other engine's turn in an interleaved benchmark, gets
 * the core back (libgomp's default spin lasts milliseconds). */
#define DEFAULT_SPIN_US 50

/* Tasks a thread claims at once: about eight claims per thread, so that a
 * step of many small tasks (a depthwise layer's planes) does not pay a
 * claim for each, while a thread that finishes early still finds some left
 * to take. */
#define CLAIMS_PER_THREAD 8

/* A share of a step's tasks, one atomic word on a cache line of its own: the
 * step's generation (16 bits), the next unclaimed unit and the end of the
 * share (24 bits each; a unit is one task, or several in a step of more than
 * 2^24 - 1). A claim by a thread that woke for an older step fails instead
 * of running a task of the new one. Thread i of a step owns the i-th
 * contiguous share and claims from its front; a thread whose own share is
 * done takes from the back of the others'. So while no thread is late,
 * thread i runs the same part of every step (the same columns, the same
 * channels) and finds in its own cache the output it wrote one step before:
 * EfficientNet-Lite0 at two threads ran in 0.95x the time tasks claimed from
 * one shared counter took, which interleaved each step's parts between the
 * cores (docs/native.md, "Threads"). */
#define UNIT_BITS 24
#define MOST_UNITS ((1 << UNIT_BITS) - 1)
#define SPAN(generation, next, end)                                                            \
    ((unsigned long long)((generation)&0xffffu) << (2 * UNIT_BITS) |                           \
     (unsigned long long)(unsigned)(next) << UNIT_BITS | (unsigned long long)(unsigned)(end))
#define SPAN_GENERATION(t) ((unsigned)((t) >> (2 * UNIT_BITS)))
#define SPAN_NEXT(t) ((int)((t) >> UNIT_BITS) & MOST_UNITS)
#define SPAN_END(t) ((int)(t)&MOST_UNITS)

static struct {
    unsigned long long span __attribute__((aligned(8)));
    char pad[56];
} shares[EI_MAX_THREADS] __attribute__((aligned(64)));

static int chunk_for(int tasks, int threads)
{
    const int chunk = tasks / (threads * CLAIMS_PER_THREAD);
    return chunk > 1 ? chunk : 1;
}

static struct {
    /* Sleeping workers wait for `step` (the generation of the last step)
     * to change: on Linux on a futex, which the caller wakes without a lock
     * (a worker preempted while holding one would stall the step); else on
     * a condition variable. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    unsigned step; /* the generation of the last step published */
    int sleepers;
    int workers;
    int busy; /* a step holds the workers */
    /* the step: written before its shares, read by a thread only once it
     * has claimed one of its tasks (the step cannot end before that task
     * does) */
    ei_task_fn fn;
    void *ctx;
    int tasks;
    int unit;  /* tasks per unit of a share */
    int chunk; /* units claimed at once */
    int threads; /* workers with an index below it take part */
    int done;
    int status;
    int spin_us;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0, 0,
          0, 0, 0, 0, 0, 0, DEFAULT_SPIN_US};

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__) || (defined(__ARM_ARCH) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield");
#endif
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Claims up to `chunk` units, [*first, *end), of step `generation` from the
 * front of share `i` (or from its back); 0 once it is empty or holds a later
 * step. (Only a thread stalled across a multiple of 65 536 steps, finding a
 * share of the same generation bits, could claim in a later step; it would
 * run those tasks right, reading the step after the claim, under its own
 * index, which is below EI_MAX_THREADS, what per-thread state is sized for,
 * though maybe not below that step's thread count.) */
static int claim(int i, unsigned generation, int chunk, int from_back, int *first, int *end)
{
    unsigned long long t = __atomic_load_n(&shares[i].span, __ATOMIC_ACQUIRE);
    for (;;) {
        const int next = SPAN_NEXT(t), last = SPAN_END(t);
        unsigned long long left;
        if (SPAN_GENERATION(t) != (generation & 0xffffu) || next >= last)
            return 0;
        if (from_back) {
            *first = last - next > chunk ? last - chunk : next;
            *end = last;
            left = SPAN(generation, next, *first);
        } else {
            *first = next;
            *end = last - next > chunk ? next + chunk : last;
            left = SPAN(generation, *end, last);
        }
        if (__atomic_compare_exchange_n(&shares[i].span, &t, left, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return 1;
    }
}

static void run_claimed(int first_unit, int end_unit, int thread)
{
    const int unit = pool.unit, tasks = pool.tasks;
    const int first = (int)((long long)first_unit * unit);
    const long long past = (long long)end_unit * unit;
    const int end = past < tasks ? (int)past : tasks;
    int task, status = 0;
    for (task = first; task < end; task++) {
        const int result = pool.fn(pool.ctx, task, thread);
        if (result < status)
            status = result;
    }
    if (status < 0) {
        int lowest = __atomic_load_n(&pool.status, __ATOMIC_RELAXED);
        while (status < lowest &&
               !__atomic_compare_exchange_n(&pool.status, &lowest, status, 0,
                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            ;
    }
    __atomic_add_fetch(&pool.done, end - first, __ATOMIC_RELEASE);
}

/* Runs thread `thread`'s share of step `generation`, of `threads` threads,
 * then what the others have not claimed of theirs, until no share of the
 * step has a task left. */
static void run_tasks(unsigned generation, int thread, int threads)
{
    const int chunk = __atomic_load_n(&pool.chunk, __ATOMIC_ACQUIRE);
    int first, end, other;
    while (claim(thread, generation, chunk, 0, &first, &end))
        run_claimed(first, end, thread);
    for (other = 1; other < threads; other++) {
        const int victim = (thread + other) % threads;
        while (claim(victim, generation, chunk, 1, &first, &end))
            run_claimed(first, end, thread);
    }
}

/* The generation of the next step after `seen`: spins a while, then sleeps. */
static unsigned wait_for_step(unsigned seen)
{
    const int spin_us = __atomic_load_n(&pool.spin_us, __ATOMIC_RELAXED);
    unsigned generation = __atomic_load_n(&pool.step, __ATOMIC_ACQUIRE);
    if (generation == seen && spin_us > 0) {
        const double until = now_us() + spin_us;
        int round = 0;
        while ((generation = __atomic_load_n(&pool.step, __ATOMIC_ACQUIRE)) == seen) {
            relax();
            if (++round % 64 == 0 && now_us() > until)
                break;
        }
    }
    if (generation != seen)
        return generation;
    /* counted before `step` is read again: the caller sets `step` before it
     * reads the count, so one of the two sees the other */
#if EI_POOL_FUTEX
    __atomic_add_fetch(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&pool.step, __ATOMIC_SEQ_CST) == seen)
        syscall(SYS_futex, &pool.step, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
    __atomic_sub_fetch(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
#else
    pthread_mutex_lock(&pool.lock);
    __atomic_add_fetch(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&pool.step, __ATOMIC_SEQ_CST) == seen)
        pthread_cond_wait(&pool.wake, &pool.lock);
    __atomic_sub_fetch(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&pool.lock);
#endif
    return __atomic_load_n(&pool.step, __ATOMIC_ACQUIRE);
}

static void *worker_main(void *arg)
{
    const int index = (int)(intptr_t)arg; /* the caller is 0 */
    unsigned seen = __atomic_load_n(&pool.step, __ATOMIC_ACQUIRE);
    for (;;) {
        int threads;
        seen = wait_for_step(seen);
        threads = __atomic_load_n(&pool.threads, __ATOMIC_ACQUIRE);
        if (index < threads)
            run_tasks(seen, index, threads);
    }
    return NULL;
}

/* A forked child has the caller's thread only: it starts its own workers. */
static void forget_workers(void)
{
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pool.sleepers = 0;
    pool.workers = 0;
    pool.busy = 0;
}

/* Starts workers up to `wanted`; returns how many there are (fewer if the
 * system refused a thread: the caller then runs more of the tasks). */
static int start_workers(int wanted)
{
    static int fork_handled = 0;
    sigset_t all, before;
    if (wanted > MAX_WORKERS)
        wanted = MAX_WORKERS;
    if (pool.workers >= wanted)
        return pool.workers;
    if (!fork_handled)
        fork_handled = pthread_atfork(NULL, NULL, forget_workers) == 0;
    /* signals are the program's main thread's to take, never a worker's */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &before);
    while (pool.workers < wanted) {
        pthread_t thread;
        pthread_attr_t attr;
        int started;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, worker_main,
                                 (void *)(intptr_t)(pool.workers + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!started)
            break;
        __atomic_store_n(&pool.workers, pool.workers + 1, __ATOMIC_RELAXED);
    }
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    return pool.workers;
}

int ei_parallel_for(int tasks, int threads, ei_task_fn fn, void *ctx)
{
    int status, share, units;
    unsigned generation;
    if (tasks <= 0)
        return 0;
    if (threads > tasks)
        threads = tasks;
    if (threads > EI_MAX_THREADS)
        threads = EI_MAX_THREADS;
    if (threads <= 1 || __atomic_exchange_n(&pool.busy, 1, __ATOMIC_ACQUIRE) != 0)
        return run_here(tasks, fn, ctx);
    if (start_workers(threads - 1) == 0) {
        __atomic_store_n(&pool.busy, 0, __ATOMIC_RELEASE);
        return run_here(tasks, fn, ctx);
    }
    pool.fn = fn;
    pool.ctx = ctx;
    pool.tasks = tasks;
    pool.unit = tasks / MOST_UNITS + 1;
    units = tasks / pool.unit + (tasks % pool.unit != 0); /* no tasks + unit - 1: INT_MAX */
    __atomic_store_n(&pool.chunk, chunk_for(units, threads), __ATOMIC_RELEASE);
    __atomic_store_n(&pool.threads, threads, __ATOMIC_RELEASE);
    __atomic_store_n(&pool.done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.status, 0, __ATOMIC_RELAXED);
    generation = pool.step + 1;
    for (share = 0; share < threads; share++)
        __atomic_store_n(&shares[share].span,
                         SPAN(generation, (long long)units * share / threads,
                              (long long)units * (share + 1) / threads),
                         __ATOMIC_RELEASE);
    __atomic_store_n(&pool.step, generation, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&pool.sleepers, __ATOMIC_SEQ_CST) > 0) {
#if EI_POOL_FUTEX
        syscall(SYS_futex, &pool.step, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
#endif
    }
    run_tasks(generation, 0, threads);
    /* only tasks a worker has claimed are left, each of them running */
    {
        int round = 0;
        while (__atomic_load_n(&pool.done, __ATOMIC_ACQUIRE) < tasks) {
            relax();
            if (++round > 4096) /* its worker was preempted */
                sched_yield();
        }
    }
    status = __atomic_load_n(&pool.status, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.busy, 0, __ATOMIC_RELEASE);
    return status;
}

double ei_pool_set_spin_us(double us)
{
    const int last = __atomic_load_n(&pool.spin_us, __ATOMIC_RELAXED);
    const int next = us < 0.0 ? DEFAULT_SPIN_US : us > 1e6 ? 1000000 : (int)us;
    __atomic_store_n(&pool.spin_us, next, __ATOMIC_RELAXED);
    return last;
}

int ei_pool_workers(void)
{
    return __atomic_load_n(&pool.workers, __ATOMIC_RELAXED);
}

#else /* no threads: every step on the caller */

int ei_parallel_for(int tasks, int threads, ei_task_fn fn, void *ctx)
{
    (void)threads;
    return run_here(tasks, fn, ctx);
}

double ei_pool_set_spin_us(double us)
{
    (void)us;
    return 0.0;
}

int ei_pool_workers(void)
{
    return 0;
}

#endif
