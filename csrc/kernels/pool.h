/* 2-D max and average pooling with the semantics of ONNX MaxPool,
 * AveragePool and GlobalAveragePool (NCHW float32). */
#ifndef EDGEINFER_POOL_H
#define EDGEINFER_POOL_H

typedef struct {
    int planes; /* batch x channels: pooling never mixes planes */
    int in_height, in_width;
    int out_height, out_width; /* chosen by the caller: floor or ceil mode */
    int kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left, pad_bottom, pad_right; /* explicit; auto_pad is resolved by the caller */
    int count_include_pad; /* average only: padding counts in the divisor */
} ei_pool2d_params;

/* Returns 0, -1 for invalid parameters, -2 when out of memory. */
int ei_max_pool2d(const ei_pool2d_params *p, const float *x, float *y);
int ei_avg_pool2d(const ei_pool2d_params *p, const float *x, float *y);

/* y[i] = mean of the `size` values of plane i. */
void ei_global_avg_pool(int planes, int size, const float *x, float *y);

#endif
