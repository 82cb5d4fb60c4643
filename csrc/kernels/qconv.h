/* Integer 1x1 convolution of a QDQ-quantised model: uint8 activations times
 * int8 weights, int32 accumulation, requantisation to uint8 fused into the
 * write. The (N, C, H, W) planes are a GEMM: output[m, p] for M output
 * channels over the P output pixels, a reduction over the K input channels. */
#ifndef EDGEINFER_QCONV_H
#define EDGEINFER_QCONV_H

#include <stdint.h>

/* y[m, oy, ox] = clamp(round(acc * multiplier[m]) + y_zero, lo, hi) with
 *   acc = bias[m] + sum_k w[m, k] * (x[k, oy * stride, ox * stride] - x_zero)
 * for one image: x (k, in_h, in_w) uint8, y (m, out_h, out_w) uint8,
 * w (m, k) int8, bias (m) int32 or NULL. Rounding is to nearest, ties to even (as onnxruntime
 * requantises). Returns -1 when scratch memory cannot be had, else 0. */
/* Which VNNI instructions the x86 kernels use: -1 the best this CPU has (the
 * default), 0 none (AVX2 vpmaddwd), 1 AVX-VNNI, 2 AVX-512 VNNI (only at the
 * avx512 SIMD level). For tests; -1 returned for what this CPU lacks. */
int ei_qconv_vnni(int mode);

int ei_qconv1x1(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                const uint8_t *x, int x_zero, const int8_t *w, const int32_t *bias,
                const float *multiplier, int y_zero, int lo, int hi, uint8_t *y);

#endif
