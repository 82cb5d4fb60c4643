/* The core's own thread pool: a step's tasks shared between the calling
 * thread and a few long-lived workers (docs/native.md, "Threads"). */
#ifndef EDGEINFER_THREAD_POOL_H
#define EDGEINFER_THREAD_POOL_H

/* Most threads a step may use, the caller included. */
#define EI_MAX_THREADS 64

/* One task of a step, run on thread `thread` of the step (0 is the caller,
 * every thread below the step's count, and always below EI_MAX_THREADS: see
 * claim() in thread_pool.c for the one theoretical exception to the first):
 * a kernel keys per-thread setup, such as padding its scratch once, on it,
 * in arrays of EI_MAX_THREADS. Returns 0, or a negative status that
 * fails the step. */
typedef int (*ei_task_fn)(void *ctx, int task, int thread);

/* Runs fn(ctx, task, thread) once for every task in [0, tasks) on up to
 * `threads` threads (at most EI_MAX_THREADS), the caller one of them, and
 * returns when all have run: the lowest status any task returned, 0 if none
 * failed. Thread i of a step starts on the i-th contiguous share of its
 * tasks, the same part of every step; tasks are claimed a few at a time, so a
 * thread that finishes early takes what is left of the others' shares; the
 * caller never waits for a worker that has not started, only for tasks
 * already running. A call made while the pool is busy (from a
 * task, or from a second thread of the program) runs all its tasks on its
 * own thread. */
int ei_parallel_for(int tasks, int threads, ei_task_fn fn, void *ctx);

/* 1 when steps run on more than one thread, 0 in a build without threads
 * (EI_NO_THREADS, a compiler other than gcc/clang, or Windows). */
int ei_pool_threads_enabled(void);

/* How long an idle worker spins, in microseconds, looking for the next step
 * before it sleeps; returns the last setting, us < 0 restores the default. */
double ei_pool_set_spin_us(double us);

/* Workers started so far (they never exceed the largest thread count asked
 * of ei_parallel_for, less one for the caller). */
int ei_pool_workers(void);

#endif
