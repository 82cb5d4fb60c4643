/* The integer depthwise convolution of qdwconv.h, channels-last: blocks of
 * EI_QDW_BLOCK channels are turned into one padded [row][column][channel]
 * tile, so a vector holds one pixel of many channels. Small maps (7x7 to
 * 28x28) fill a vector this way where a row of 7 pixels fills half of one;
 * the arithmetic, and so every output, is qdwconv's. */
#ifndef EDGEINFER_QDWCONV_BLOCKED_H
#define EDGEINFER_QDWCONV_BLOCKED_H

#include <stdint.h>

#include "cpu.h"

/* Channels per block: one AVX-512 vector, two AVX2, four SSE2 / NEON. */
#define EI_QDW_BLOCK 16

/* Pixels past a block's output that its last group of pixels may write. */
#define EI_QDW_OUT_SLACK 8

/* The arguments and result of ei_qdwconv, computed channels-last with the
 * vector unit `level`. */
int ei_qdwconv_blocked(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                       int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                       const int8_t *w, const int32_t *bias, const float *multiplier,
                       int y_zero, int lo, int hi, uint8_t *y, ei_simd_level level);

#endif
