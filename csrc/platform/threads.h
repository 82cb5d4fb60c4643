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

#endif
