/* Depthwise convolution of a whole plane in one run of the row kernel, for
 * planes small enough to pad in full. The plane is padded and split by stride
 * phase (polyphase) into one scratch block, so that output (oy, ox) reads
 * every tap at flat position j = oy * pitch + ox of its phase's sub-plane;
 * all outputs, across row ends, are then one run: a 7x7 map with a 5x5 kernel
 * is one run of 73 outputs, not seven of 7. The pitch - Wo columns between
 * rows are computed and dropped. The plane filter's per-row ring is the
 * better choice once a padded plane outgrows the L1/L2 caches. */
#ifndef EDGEINFER_DEPTHWISE_H
#define EDGEINFER_DEPTHWISE_H

#include <stddef.h>

#include "conv2d.h"
#include "plane_filter.h"

typedef struct {
    const ei_conv2d_params *conv;
    int out_height, out_width;
    int sub_height, pitch;   /* each of stride_h x stride_w sub-planes is sub_height x pitch */
    int run;                 /* outputs per plane in the flat run */
    size_t block;            /* floats in the padded, phase-split plane */
    size_t scratch_bytes;    /* per thread: block, slack, the run's output, tap tables */
} ei_depthwise_flat;

void ei_depthwise_flat_plan(const ei_conv2d_params *p, int out_height, int out_width,
                            ei_depthwise_flat *plan);

/* Prepares one thread's scratch (plan->scratch_bytes, aligned for pointers):
 * zeroes the padded block's border and sets the tap tables. */
void ei_depthwise_flat_bind(const ei_depthwise_flat *plan, void *scratch);

/* y_plane (out_height x out_width) = depthwise conv of x_plane with the
 * kh x kw kernel w, plus bias, clamped as the plan's parameters say. scratch
 * is one thread's, bound to this plan; planes only overwrite its interior. */
void ei_depthwise_flat_plane(const ei_depthwise_flat *plan, const float *x_plane,
                             const float *w, float bias, float *y_plane, void *scratch,
                             ei_row_kernel kernel);

/* Input columns [0, end) of one row into the sw column phases of a padded
 * row, sub_size floats apart: phase b takes the columns c with
 * (c + pad_left) % sw == b, at (c + pad_left) / sw. Stride 2 is one even/odd
 * pass, which compilers vectorise. The dense convolutions' phase split
 * (conv2d.c) shares it. */
void ei_split_columns(const float *src, int end, int pad_left, int sw, size_t sub_size,
                      float *row);

#endif
