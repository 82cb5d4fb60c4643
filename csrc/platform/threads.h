/* Thread count shared by every kernel of the core. */
#ifndef EDGEINFER_THREADS_H
#define EDGEINFER_THREADS_H

/* 1 when the core was compiled with OpenMP, 0 otherwise. */
int ei_openmp_enabled(void);

/* Threads a kernel may use. Starts from EDGEINFER_NUM_THREADS, else OpenMP's
 * default (which honours OMP_NUM_THREADS), else 1. */
int ei_get_num_threads(void);

/* n < 1 restores the default. Without OpenMP every kernel runs on one thread. */
void ei_set_num_threads(int n);

/* Threads for a step of `items` work items of `work_per_item` multiply-adds
 * (or the like) each: one per `ei_work_per_thread()` of work, at most one per
 * item, at most ei_get_num_threads(), at least 1. A step too small to repay
 * waking a second core runs on the calling thread alone. */
int ei_threads_for(double items, double work_per_item);

/* A float a streaming kernel (elementwise, activation, a pooling tap) reads
 * counts as this many multiply-adds of work: such a pass is bound by the
 * cache, not by arithmetic. */
#define EI_WORK_PER_STREAMED_FLOAT 4.0

/* Sets the work a thread must have before a step is split and returns the
 * last setting; n < 0 restores the default, 0 splits every step across all
 * threads (tests force the parallel paths with it). */
double ei_set_work_per_thread(double n);

#endif
