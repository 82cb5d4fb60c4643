/* 2-D convolution with the semantics of ONNX Conv (NCHW float32), plus a
 * clamp fused into the output write for ReLU, ReLU6 and Clip. */
#ifndef EDGEINFER_CONV2D_H
#define EDGEINFER_CONV2D_H

#include <stddef.h>

typedef struct {
    int batch, in_channels, in_height, in_width;
    int out_channels, kernel_h, kernel_w; /* weights: out x in/groups x kh x kw */
    int stride_h, stride_w, dilation_h, dilation_w;
    int pad_top, pad_left, pad_bottom, pad_right; /* explicit; auto_pad is resolved by the caller */
    int groups;
    int clamp; /* 0: no activation; else outputs are clamped to [lo, hi] */
    float lo, hi;
} ei_conv2d_params;

/* Output height and width; -1 when the parameters are invalid. */
int ei_conv2d_output_size(const ei_conv2d_params *p, int *out_height, int *out_width);

/* y (batch x out_channels x out_height x out_width) = conv(x, w) + bias.
 * bias may be NULL. All arrays contiguous. Returns 0, -1 for invalid
 * parameters, -2 when scratch memory could not be allocated. */
int ei_conv2d(const ei_conv2d_params *p, const float *x, const float *w, const float *bias,
              float *y);

/* The same plus a residual added in the output write: y = conv(x, w) + bias
 * + residual, then the clamp (ONNX Add after a Conv, with any Relu/Clip after
 * the Add). residual has y's shape and must not overlap y. Dense, grouped and
 * 1x1 convolutions only: -1 for a depthwise one. */
int ei_conv2d_residual(const ei_conv2d_params *p, const float *x, const float *w,
                       const float *bias, const float *residual, float *y);

/* The weights of a 1x1 convolution without groups (m x k), packed once (at
 * a model's load) for the GEMM of the active SIMD level: the floats the
 * packing takes, and the packing, which returns the level it was made for.
 * The layout is that level's; ei_conv2d_residual_packed uses it only while
 * the same level is active. */
size_t ei_conv2d_pointwise_packed_size(int out_channels, int in_channels);
int ei_conv2d_pointwise_pack(int out_channels, int in_channels, const float *w, float *packed);

/* ei_conv2d_residual with w also packed (packed_w from
 * ei_conv2d_pointwise_pack for packed_level, or NULL): a 1x1 convolution at
 * stride 1 without padding or groups reads the packed weights as one stream
 * and computes the positions past the last whole vector in the same pass
 * (the rows of a weight panel as the vector lanes); every other case, or
 * another active level, runs as ei_conv2d_residual. */
int ei_conv2d_residual_packed(const ei_conv2d_params *p, const float *x, const float *w,
                              const float *packed_w, int packed_level, const float *bias,
                              const float *residual, float *y);

/* Pointwise path, for tests: -1 uses packed weights when given (the
 * default), 0 never, 1 always (packing them for the call when not given).
 * Returns -1 for other values. */
int ei_conv2d_force_pointwise(int path);

/* Depthwise path, for tests: -1 chooses by shape (the default), 0 the
 * row-by-row plane filter, 1 the flat whole-plane run, 2 channels-last
 * blocks of a vector's width of channels. Returns -1 for other values. */
int ei_conv2d_force_depthwise(int path);

/* Dense path, for tests: -1 chooses by shape (the default), 0 im2col, 1 the
 * indirect GEMM row by row, 2 the indirect GEMM in bands of rows, each band
 * one GEMM over its flat padded rows (1 and 2: every dense case but 1x1 at stride 1 without padding,
 * which reads its input in place). Returns -1 for other values. */
int ei_conv2d_force_indirect(int path);

#endif
