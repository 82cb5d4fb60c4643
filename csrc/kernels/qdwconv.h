/* Integer depthwise convolution of a QDQ-quantised model: each uint8 channel
 * convolved with its own int8 kh x kw filter, int32 sums, requantised to
 * uint8 in the write (the same arithmetic as qconv.h's 1x1). */
#ifndef EDGEINFER_QDWCONV_H
#define EDGEINFER_QDWCONV_H

#include <stdint.h>

/* The most taps (kh x kw) a filter may have: the sums are taken in float32,
 * exact while |sum| <= taps x 255 x 128 < 2^24. */
#define EI_QDWCONV_MAX_TAPS 514

/* y[c, oy, ox] = clamp(round(acc * multiplier[c]) + y_zero, lo, hi) with
 *   acc = bias[c] + sum_{i,j} w[c, i, j] * (x[c, iy, ix] - x_zero),
 *   iy = oy * stride + i - pad_top, ix = ox * stride + j - pad_left
 * where a position outside x contributes nothing (it holds x_zero, the
 * quantised 0.0 a float Conv pads with). One image: x (c, in_h, in_w) uint8,
 * y (c, out_h, out_w) uint8, w (c, kh, kw) int8, bias (c) int32 or NULL.
 * Rounding is to nearest, ties to even. Returns -1 when scratch memory
 * cannot be had, -2 for more than EI_QDWCONV_MAX_TAPS taps, else 0. */
int ei_qdwconv(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top, int pad_left,
               int out_h, int out_w, const uint8_t *x, int x_zero, const int8_t *w,
               const int32_t *bias, const float *multiplier, int y_zero, int lo, int hi,
               uint8_t *y);

/* Which layout ei_qdwconv computes in: -1 by the map's width (channels-last
 * blocks, qdwconv_blocked.h, for narrow maps; padded planes per channel for
 * wide ones), 0 planes, 1 channels-last blocks, 2 the planes transposed
 * through ei_qdwconv_nhwc (the int8 region's kernel). For tests and
 * benchmarks; returns -1 for any other value. */
int ei_qdwconv_force_layout(int layout);

#endif
