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

/* The VNNI mode the kernels use now, at the active SIMD level: 2, 1 or 0. */
int ei_qconv_vnni_in_use(void);

/* Which layout ei_qconv1x1 computes in: 0 the planes (the default), 1
 * transposed through qconv_nhwc.h's channels-last kernel (the int8 region's).
 * For tests; returns -1 for any other value. */
int ei_qconv_force_layout(int layout);

int ei_qconv1x1(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                const uint8_t *x, int x_zero, const int8_t *w, const int32_t *bias,
                const float *multiplier, int y_zero, int lo, int hi, uint8_t *y);

/* The same in two halves, so a model's layer readies its weights once at
 * load instead of every frame: ei_qconv1x1_pack writes w8 and w16 (each
 * m x 4 ceil(k / 4), zero padded; int8 and widened to int16) and folded (m),
 * the bias less x_zero times each row's weight sum; ei_qconv1x1_packed
 * convolves with them. */
void ei_qconv1x1_pack(int m, int k, const int8_t *w, const int32_t *bias, int x_zero, int8_t *w8,
                      int16_t *w16, int32_t *folded);
int ei_qconv1x1_packed(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                       const uint8_t *x, const int8_t *w8, const int16_t *w16,
                       const int32_t *folded, const float *multiplier, int y_zero, int lo, int hi,
                       uint8_t *y);

#endif
