/* The core's own thread pool: a step's tasks shared between the calling
 * thread and a few long-lived workers (docs/native.md, "Threads"). */
#ifndef EDGEINFER_THREAD_POOL_H
#define EDGEINFER_THREAD_POOL_H

/* One task of a step; returns 0, or a negative status that fails the step. */
typedef int (*ei_task_fn)(void *ctx, int task);

/* Runs fn(ctx, task) once for every task in [0, tasks) on up to `threads`
 * threads, the caller one of them, and returns when all have run: the
 * lowest status any task returned, 0 if none failed. Tasks are claimed one
 * at a time, so a thread that finishes early takes more; the caller never
 * waits for a worker that has not started, only for tasks already running.
 * A call made while the pool is busy (from a task, or from a second thread
 * of the program) runs all its tasks on its own thread. */
int ei_parallel_for(int tasks, int threads, ei_task_fn fn, void *ctx);

/* How long an idle worker spins, in microseconds, looking for the next step
 * before it sleeps; returns the last setting, us < 0 restores the default. */
double ei_pool_set_spin_us(double us);

/* Workers started so far (they never exceed the largest thread count asked
 * of ei_parallel_for, less one for the caller). */
int ei_pool_workers(void);

#endif
