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

/* The ticket packs the step's generation (high 32 bits) with its next
 * unclaimed task (low 32 bits): a claim by a worker that woke for an older
 * step fails instead of running a task of the new one. */
#define GENERATION(t) ((unsigned)((t) >> 32))
#define TASK(t) ((int)((t)&0xffffffffu))
/* the task of a ticket closed while the next step is written: none is left */
#define CLOSED 0x7fffffffu

/* Tasks a thread claims at once: about eight claims per thread, so that a
 * step of many small tasks (a depthwise layer's planes) does not pay a
 * contended claim for each, while a thread that finishes early still finds
 * some left to take. */
#define CLAIMS_PER_THREAD 8

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
    unsigned step;
    int sleepers;
    int workers;
    int busy; /* a step holds the workers */
    unsigned generation;
    /* 8-aligned: a 64-bit atomic on a 4-aligned field is not one on i386;
     * on armv6 it is a libatomic call (setup.py links -latomic there) */
    unsigned long long ticket __attribute__((aligned(8)));
    /* the step: written between closing the last step's ticket and
     * publishing its own, read by a thread only once it has claimed one of
     * its tasks (the step cannot end before that task does) */
    ei_task_fn fn;
    void *ctx;
    int tasks; /* read before a claim, so atomically */
    int chunk; /* tasks claimed at once */
    int threads; /* workers with an index below it take part */
    int done;
    int status;
    int spin_us;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0, 0,
          0, 0, 0, 0, 0, 0, 0, DEFAULT_SPIN_US};

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

/* Claims and runs tasks of step `generation` on its thread `thread` until
 * none is left. */
static void run_tasks(unsigned generation, int thread)
{
    for (;;) {
        unsigned long long t = __atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE);
        int first, end, task, status = 0;
        /* a count written for a later step comes after that step closed
         * this ticket, so a claim made with it fails */
        const int tasks = __atomic_load_n(&pool.tasks, __ATOMIC_ACQUIRE);
        const int chunk = __atomic_load_n(&pool.chunk, __ATOMIC_ACQUIRE);
        first = TASK(t);
        if (GENERATION(t) != generation || first >= tasks)
            return;
        end = tasks - first < chunk ? tasks : first + chunk;
        if (!__atomic_compare_exchange_n(&pool.ticket, &t, t + (unsigned)(end - first), 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
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
}

/* The generation of the next step after `seen`: spins a while, then sleeps. */
static unsigned wait_for_step(unsigned seen)
{
    const int spin_us = __atomic_load_n(&pool.spin_us, __ATOMIC_RELAXED);
    unsigned generation = GENERATION(__atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE));
    if (generation == seen && spin_us > 0) {
        const double until = now_us() + spin_us;
        int round = 0;
        while ((generation = GENERATION(__atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE))) ==
               seen) {
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
    return GENERATION(__atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE));
}

static void *worker_main(void *arg)
{
    const int index = (int)(intptr_t)arg; /* the caller is 0 */
    unsigned seen = GENERATION(__atomic_load_n(&pool.ticket, __ATOMIC_ACQUIRE));
    for (;;) {
        seen = wait_for_step(seen);
        if (index < __atomic_load_n(&pool.threads, __ATOMIC_ACQUIRE))
            run_tasks(seen, index);
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
    int status;
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
    __atomic_store_n(&pool.ticket, (unsigned long long)pool.generation << 32 | CLOSED,
                     __ATOMIC_SEQ_CST);
    pool.fn = fn;
    pool.ctx = ctx;
    __atomic_store_n(&pool.chunk, chunk_for(tasks, threads), __ATOMIC_RELEASE);
    __atomic_store_n(&pool.tasks, tasks, __ATOMIC_RELEASE);
    __atomic_store_n(&pool.threads, threads, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.status, 0, __ATOMIC_RELAXED);
    pool.generation++;
    __atomic_store_n(&pool.ticket, (unsigned long long)pool.generation << 32, __ATOMIC_SEQ_CST);
    __atomic_store_n(&pool.step, pool.generation, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&pool.sleepers, __ATOMIC_SEQ_CST) > 0) {
#if EI_POOL_FUTEX
        syscall(SYS_futex, &pool.step, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
#endif
    }
    run_tasks(pool.generation, 0);
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
