/* OpenCV filter2D on HxWxC images: each channel correlated with one kernel,
 * anchor at the kernel's centre, same-size output of the input's type. */
#ifndef EDGEINFER_FILTER2D_H
#define EDGEINFER_FILTER2D_H

#include <stddef.h>

#include "plane_filter.h"

typedef struct {
    const void *data;
    void *out;
    ei_pixel_type type; /* of input and output */
    int height, width, channels;
    ptrdiff_t row_stride, col_stride;         /* input, in elements; channels adjacent */
    ptrdiff_t out_row_stride, out_col_stride; /* output, in elements */
} ei_image;

/* Returns 0, -1 for invalid arguments, -2 when memory runs out. */
int ei_filter2d(const ei_image *image, const float *kernel, int kernel_h, int kernel_w,
                ei_border border);

#endif
