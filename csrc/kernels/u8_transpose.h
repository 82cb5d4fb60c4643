/* Byte transposes: one image's (C, H*W) uint8 planes into (H*W, C) pixels or
 * back, where the int8 region of a model is entered and left, and the 16 x 16
 * block the channels-last depthwise turns planes into tiles with. */
#ifndef EDGEINFER_U8_TRANSPOSE_H
#define EDGEINFER_U8_TRANSPOSE_H

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(EI_NO_SIMD)
#include <emmintrin.h>
#define EI_U8_ZIP_SSE2 1
#elif defined(__ARM_NEON) && !defined(EI_NO_SIMD)
#include <arm_neon.h>
#define EI_U8_ZIP_NEON 1
#endif

/* y (cols, rows) = x (rows, cols) transposed, 16 x 16 blocks at a time. */
void ei_u8_transpose(long rows, long cols, const uint8_t *x, uint8_t *y);

/* blk[i][j] <-> blk[j][i]. With vectors, four rounds of interleaving row i
 * with row i + 8 (a perfect shuffle, applied log2(16) times, transposes).
 * Inline: the depthwise tiles call it once per 16 pixels of 16 channels. */
static inline void ei_u8_transpose16(uint8_t blk[16][16])
{
#if defined(EI_U8_ZIP_SSE2) || defined(EI_U8_ZIP_NEON)
    int round, i;
#if defined(EI_U8_ZIP_SSE2)
    __m128i r[16], t[16];
    for (i = 0; i < 16; i++)
        r[i] = _mm_loadu_si128((const __m128i *)blk[i]);
    for (round = 0; round < 4; round++) {
        for (i = 0; i < 8; i++) {
            t[2 * i] = _mm_unpacklo_epi8(r[i], r[i + 8]);
            t[2 * i + 1] = _mm_unpackhi_epi8(r[i], r[i + 8]);
        }
        memcpy(r, t, sizeof r);
    }
    for (i = 0; i < 16; i++)
        _mm_storeu_si128((__m128i *)blk[i], r[i]);
#else
    uint8x16_t r[16], t[16];
    for (i = 0; i < 16; i++)
        r[i] = vld1q_u8(blk[i]);
    for (round = 0; round < 4; round++) {
        for (i = 0; i < 8; i++) {
            uint8x16x2_t z = vzipq_u8(r[i], r[i + 8]);
            t[2 * i] = z.val[0];
            t[2 * i + 1] = z.val[1];
        }
        memcpy(r, t, sizeof r);
    }
    for (i = 0; i < 16; i++)
        vst1q_u8(blk[i], r[i]);
#endif
#else
    int i, j;
    for (i = 0; i < 16; i++)
        for (j = i + 1; j < 16; j++) {
            const uint8_t t = blk[i][j];
            blk[i][j] = blk[j][i];
            blk[j][i] = t;
        }
#endif
}

#endif
