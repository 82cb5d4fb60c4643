/* The integer 1x1 convolution of qconv.h, channels-last: x (in_h, in_w, k)
 * and y (out_h, out_w, m) uint8, so y[p, :] = requant(x[p, :] . w^T) is a
 * GEMM over pixels with each pixel's channels already contiguous: a pixel's
 * four input channels are the u8 operand of a dot-product instruction, one
 * broadcast per pixel, against 16 output channels of packed weights; the
 * output of a pixel is 16 contiguous bytes per vector. The arithmetic, and so
 * every output, is qconv.h's. */
#ifndef EDGEINFER_QCONV_NHWC_H
#define EDGEINFER_QCONV_NHWC_H

#include <stdint.h>

/* Output channels rounded up to whole vectors of the packed weights. */
#define EI_QCONV_NHWC_LANES 16

/* w (m, k) int8, bias (m) int32 or NULL readied once: with mp = m rounded up
 * to EI_QCONV_NHWC_LANES and k4 = ceil(k / 4), w8 (k4, mp, 4) int8 (quads of
 * input channels per output channel), w16 (2 k4, mp, 2) int16 (pairs),
 * folded (mp) the bias less x_zero times each row's weight sum, and
 * multipliers (mp); padding is zero. */
void ei_qconv1x1_nhwc_pack(int m, int k, const int8_t *w, const int32_t *bias, int x_zero,
                           const float *multiplier, int8_t *w8, int16_t *w16, int32_t *folded,
                           float *multipliers);

/* y[oy, ox, n] = clamp(round(acc * multiplier[n]) + y_zero, lo, hi) with
 *   acc = bias[n] + sum_c w[n, c] * (x[oy * stride, ox * stride, c] - x_zero)
 * for one image, from ei_qconv1x1_nhwc_pack's arrays. Returns 0. */
int ei_qconv1x1_nhwc(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                     const uint8_t *x, const int8_t *w8, const int16_t *w16,
                     const int32_t *folded, const float *multipliers, int y_zero, int lo, int hi,
                     uint8_t *y);

#endif
