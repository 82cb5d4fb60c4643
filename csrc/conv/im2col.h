/* Convolution input -> packed B operand of the GEMM: column p of B is output
 * position p (row-major over the output plane), row q is one tap
 * (channel, ky, kx) of the kernel. Written straight into the micro-kernel's
 * panel layout, so no separate packing pass is needed. */
#ifndef EDGEINFER_IM2COL_H
#define EDGEINFER_IM2COL_H

#include <stddef.h>

/* Geometry of one image of one group. */
typedef struct {
    const float *x; /* channels x height x width, contiguous */
    int channels, height, width;
    int kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left;
    int out_height, out_width;
} ei_im2col_src;

/* Packs output positions [p0, p0 + count) into `packed`: panel j starts at
 * column j * nr and holds channels*kernel_h*kernel_w rows of nr values, the
 * last panel of count - j * nr values rounded up to a multiple of vl; the
 * columns past count are zero. Returns 0, or -2 when its small tables could
 * not be allocated. */
int ei_im2col_packed(const ei_im2col_src *src, int p0, int count, int nr, int vl, float *packed);

#endif
