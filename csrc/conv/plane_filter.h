/* Direct 2-D correlation of one plane with one small kernel: the depthwise
 * convolution kernel and the engine of filter2d. Any kernel size, stride and
 * dilation; input rows are padded once into a ring (with zeros, a constant,
 * replicated or reflected border), split by column phase when strided, so
 * the inner loop is unit-stride loads and multiply-adds with no bounds test.
 * 3x3 and 5x5 kernels get loops unrolled at compile time. */
#ifndef EDGEINFER_PLANE_FILTER_H
#define EDGEINFER_PLANE_FILTER_H

#include <stddef.h>

#include "cpu.h"

typedef enum {
    EI_BORDER_CONSTANT = 0,  /* border_value outside (0 for convolution) */
    EI_BORDER_REPLICATE = 1, /* aaa|abcd|ddd */
    EI_BORDER_REFLECT101 = 2 /* cb|abcd|cb, OpenCV's default */
} ei_border;

typedef enum { EI_PIXEL_F32 = 0, EI_PIXEL_U8 = 1 } ei_pixel_type;

/* A plane of float or uint8 values; strides in elements, so an interleaved
 * channel of an HxWxC image is a plane with col_stride C. */
typedef struct {
    void *data;
    ei_pixel_type type;
    int height, width;
    ptrdiff_t row_stride, col_stride;
} ei_plane;

typedef struct {
    const float *kernel; /* kernel_h x kernel_w, correlation order */
    int kernel_h, kernel_w;
    int stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left; /* virtual input coordinates of output (0, 0)'s first tap */
    ei_border border;
    float border_value;
    float bias;
    int clamp; /* 0: none; else results are clamped to [lo, hi] */
    float lo, hi;
} ei_plane_filter;

/* Output rows [row_begin, row_end) of out (whose height and width give the
 * output size). uint8 output is rounded half to even and saturated, as
 * OpenCV's saturate_cast does. Returns 0, -1 on bad arguments, -2 when
 * scratch memory could not be allocated. */
int ei_plane_filter_rows(const ei_plane *in, const ei_plane_filter *f, const ei_plane *out,
                         int row_begin, int row_end, ei_simd_level level);

/* The row kernel of one vector unit, for callers that lay out input rows
 * themselves: out[i] = clamp(bias + sum over ky, kx of
 * w[ky * kw + kx] * rows[ky][tap[kx] + i]) for i < n, clamp NULL or {lo, hi}.
 * It reads up to EI_ROW_SLACK floats past rows[ky][tap[kx] + n - 1]. */
typedef void (*ei_row_kernel)(const float *const *rows, const ptrdiff_t *tap, int kh, int kw,
                              const float *w, float bias, const float *clamp, float *out, int n);

#define EI_ROW_SLACK 16

ei_row_kernel ei_plane_row_kernel(ei_simd_level level);

#endif
