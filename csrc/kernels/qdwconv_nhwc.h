/* The integer depthwise convolution of qdwconv.h with x (in_h, in_w, c) and
 * y (out_h, out_w, c) channels-last, as the int8 region of a model runs it:
 * no transpose in or out; blocks of 16 channels of a band of rows gathered
 * from the pixels, the sums in int32 (pairs of int16 products). */
#ifndef EDGEINFER_QDWCONV_NHWC_H
#define EDGEINFER_QDWCONV_NHWC_H

#include <stdint.h>

#include "cpu.h"

/* The arguments and result of ei_qdwconv, channels-last, with the vector unit
 * `level`. Returns -1 when scratch memory cannot be had, -2 for more than
 * EI_QDWCONV_MAX_TAPS taps, else 0. */
int ei_qdwconv_nhwc(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                    int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                    const int8_t *w, const int32_t *bias, const float *multiplier, int y_zero,
                    int lo, int hi, uint8_t *y, ei_simd_level level);

/* The weights, biases and multipliers of ei_qdwconv_nhwc readied once for
 * ei_qdwconv_nhwc_packed: ei_qdwconv_nhwc_packed_words(c, kh, kw) int16,
 * 64-byte aligned for the vector loads to keep to cache lines (any alignment
 * works). */
long ei_qdwconv_nhwc_packed_words(int c, int kh, int kw);
void ei_qdwconv_nhwc_pack(int c, int kh, int kw, const int8_t *w, const int32_t *bias,
                          const float *multiplier, int16_t *packed);

/* ei_qdwconv_nhwc with the weights packed by ei_qdwconv_nhwc_pack (a model's
 * plan packs them once, not every frame). */
int ei_qdwconv_nhwc_packed(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                           int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                           const int16_t *packed, int y_zero, int lo, int hi, uint8_t *y,
                           ei_simd_level level);

/* Whether the AVX-512 unit may sum with VNNI's vpdpwssd where the CPU has
 * it (1, the default) or must use pmaddwd and an add (0): the same sums,
 * for tests to reach both. */
int ei_qdwconv_nhwc_allow_vnni(int allow);

#endif
