/* The AVX-512 band of qdwconv_nhwc.c, instantiated there once per way of
 * summing pairs of int16 products into int32:
 *
 *     #define NHWC_BAND name
 *     #define NHWC_BAND_TARGET "target,list"
 *     #define NHWC_MADD(acc, x, w) acc + pairwise products of x and w
 *     #include "qdwconv_nhwc_avx512.h"
 *
 * No include guard on purpose. */

/* Eight pixels at a time, each one vector of the block's int32 sums. */
__attribute__((target(NHWC_BAND_TARGET))) static void NHWC_BAND(const nhwc_geometry *g,
                                                                 const int16_t *tile,
                                                                 const nhwc_lanes *l, uint8_t *y)
{
    const long row = (long)g->cols * PAIR, step = (long)g->col_step * PAIR;
    const __m512i bias = _mm512_loadu_si512(l->bias);
    const __m512 multiplier = _mm512_loadu_ps(l->multiplier);
    const __m512 lo = _mm512_set1_ps(g->lo), hi = _mm512_set1_ps(g->hi);
    const __m512i y_zero = _mm512_set1_epi32(g->y_zero);
    const __mmask16 lanes = (__mmask16)((1u << g->n) - 1);
    int oy, ox, i, q, p;
    for (oy = 0; oy < g->out_h; oy++)
        for (ox = 0; ox < g->out_w; ox += GROUP) {
            const int16_t *origin = tile + (long)oy * g->stride * row + (long)ox * step;
            __m512i acc[GROUP];
            for (p = 0; p < GROUP; p++)
                acc[p] = bias;
            for (i = 0; i < g->kh; i++)
                for (q = 0; q < g->pairs; q++) {
                    const int16_t *src = origin + i * row + (long)q * g->pair_step * PAIR;
                    const __m512i wv = _mm512_loadu_si512(l->w + (i * g->pairs + q) * PAIR);
                    for (p = 0; p < GROUP; p++)
                        acc[p] = NHWC_MADD(acc[p], _mm512_loadu_si512(src + p * step), wv);
                }
            for (p = 0; p < GROUP && ox + p < g->out_w; p++) {
                __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[p]), multiplier);
                /* clamped, rounded to nearest even (MXCSR's), in 0..255 after the zero point */
                v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
                _mm_mask_storeu_epi8(y + ((long)oy * g->out_w + ox + p) * g->c, lanes,
                                     _mm512_cvtepi32_epi8(
                                         _mm512_add_epi32(_mm512_cvtps_epi32(v), y_zero)));
            }
        }
}

#undef NHWC_BAND
#undef NHWC_BAND_TARGET
#undef NHWC_MADD
