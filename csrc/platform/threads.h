/* Thread count shared by every kernel of the core. */
#ifndef EDGEINFER_THREADS_H
#define EDGEINFER_THREADS_H

/* 1 when the core shares steps between threads (its thread pool,
 * csrc/platform/thread_pool.c), 0 in a build without threads. */
int ei_threads_enabled(void);

/* Threads a kernel may use. Starts from EDGEINFER_NUM_THREADS, else
 * OMP_NUM_THREADS, else the cores the process may run on; at most
 * EI_MAX_THREADS. */
int ei_get_num_threads(void);

/* n < 1 restores the default. Without threads every kernel runs on one. */
void ei_set_num_threads(int n);

/* Threads for a step of `items` work items of `work_per_item` multiply-adds
 * (or the like) each: one per `ei_work_per_thread()` of work, at most one per
 * item, at most ei_get_num_threads(), at least 1. A step too small to repay
 * waking a second core runs on the calling thread alone. */
int ei_threads_for(double items, double work_per_item);

/* Parts (1 to `most`) to split each of a step's `items` tasks into, so that
 * its tasks share out evenly between `threads` threads: 1 when they already
 * do or are many (a thread then waits at most a small share of the step);
 * else the fewest that make their count a multiple of the threads (9 channel
 * blocks on 2 threads kept one waiting for a whole block). */
int ei_even_parts(int items, int threads, int most);

/* A float a streaming kernel (elementwise, activation, a pooling tap) reads
 * counts as this many multiply-adds of work: such a pass is bound by the
 * cache, not by arithmetic. */
#define EI_WORK_PER_STREAMED_FLOAT 4.0

/* Sets the work a thread must have before a step is split and returns the
 * last setting; n < 0 restores the default, 0 splits every step across all
 * threads (tests force the parallel paths with it). */
double ei_set_work_per_thread(double n);

#endif
