/* Per-thread scratch memory for the kernels: grow-only, 64-byte aligned
 * blocks that live as long as the thread, so a model's run allocates nothing
 * after its first frame (conv scratch had been malloc'd and freed on every
 * call, by every thread). Each slot is one job's buffer; a kernel uses its
 * slots only between its entry and return, on the thread it runs on. */
#ifndef EDGEINFER_SCRATCH_H
#define EDGEINFER_SCRATCH_H

#include <stddef.h>

enum {
    EI_SCRATCH_GEMM_B,     /* packed B of a GEMM block (conv2d's im2col or copy) */
    EI_SCRATCH_DEPTHWISE,  /* a depthwise plane padded by phase */
    EI_SCRATCH_CONV_INPUT, /* the padded input of an indirect convolution */
    EI_SCRATCH_CONV_OUTPUT, /* an indirect convolution's band of output rows */
    EI_SCRATCH_POOL,       /* max pooling's padded block and row table */
    EI_SCRATCH_PACKED_A,   /* 1x1 weights packed for one call (a forced path in tests) */
    EI_SCRATCH_SLOTS
};

/* At least `bytes` of this thread's block `slot`, 64-byte aligned; NULL when
 * out of memory. The contents do not survive the next call with a larger
 * size. */
void *ei_scratch(int slot, size_t bytes);

#endif
