/* Depthwise convolution channels-last, a vector of channels at a time, on
 * small maps (conv2d.c chooses: up to 56 wide, 112 when filled in bands).
 * On a 7x7 or 14x14 map a plane's flat run (depthwise.h) is mostly padding
 * columns, vector tails and per-plane set-up; here VL channels are
 * transposed into one padded [rows][cols][VL] block, so each tap is one
 * weight vector times one input vector per output pixel, every lane useful,
 * with several pixels of a row kept in registers. The results go through a
 * [pixels][VL] block transposed back into the NCHW planes. onnxruntime's
 * NCHWc depthwise kernel works the same way, but keeps the whole graph
 * channel-blocked; here the two transposes are per layer. */
#ifndef EDGEINFER_DEPTHWISE_BLOCKED_H
#define EDGEINFER_DEPTHWISE_BLOCKED_H

#include <stddef.h>

#include "conv2d.h"
#include "cpu.h"

typedef struct ei_depthwise_blocked ei_depthwise_blocked;

/* Output channels [m0, m0 + lanes) of one image, output rows [oy0, oy1)
 * (oy0 a multiple of plan->band_rows; 0 and out_height for the whole map):
 * x and y point at that image's first channel; scratch is one thread's,
 * bound to the plan. */
typedef void (*ei_depthwise_block_fn)(const ei_depthwise_blocked *plan, const float *x,
                                      const float *w, const float *bias, int m0, int oy0,
                                      int oy1, float *y, float *scratch);

struct ei_depthwise_blocked {
    const ei_conv2d_params *conv;
    int out_height, out_width;
    int padded_height, padded_width; /* the padded input rows and columns some tap reads */
    int lanes;                       /* channels per block: the vector unit's width */
    int band_rows;                   /* output rows per band (see ei_depthwise_blocked_plan) */
    int band_height;                 /* the padded input rows a band reads */
    ei_depthwise_block_fn block;
    size_t scratch_bytes;            /* per thread: padded input, weights, output block */
};

/* A map whose padded block would be large (512 KB: the 3x3 and 3x3/2
 * layers on 112x112 maps with AVX-512's 16 lanes) runs in bands of output
 * rows, each filling only the padded input rows it reads into a block of
 * 32 KB, so that the rows being filled are the ones being read, in L1, and
 * the input's stream from memory overlaps the multiply-adds; smaller maps
 * are one band. */
void ei_depthwise_blocked_plan(const ei_conv2d_params *p, int out_height, int out_width,
                               ei_simd_level level, ei_depthwise_blocked *plan);

/* Bands of at most ceil(out_height / parts) output rows, so that a step
 * with fewer channel blocks than it has threads to keep busy can share out
 * each block's rows too (each band reads its own halo rows again). */
void ei_depthwise_blocked_split_rows(ei_depthwise_blocked *plan, int parts);

/* Forces bands of this many output rows (0: as planned), for tests. */
void ei_depthwise_blocked_force_band_rows(int rows);

/* Prepares one thread's scratch (plan->scratch_bytes, 64-byte aligned):
 * zeroes the padded block, whose border no block overwrites. */
void ei_depthwise_blocked_bind(const ei_depthwise_blocked *plan, float *scratch);

#endif
