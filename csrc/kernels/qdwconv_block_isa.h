/* One block of EI_QDW_BLOCK channels of the channels-last integer depthwise
 * convolution, instantiated by qdwconv_blocked.c once per vector unit:
 *
 *     #define EI_QDW_ISA (unit, VEC, VECI, VL, attribute)
 *     #include "qdwconv_block_isa.h"
 *
 * defines qdw_block_<unit>. The sums are float32 multiply-adds, exact as in
 * qdwconv.c (whole numbers below 2^24). No include guard on purpose. */
#define EI_QDW_UNIT_(u, v, vi, vl, attr) u
#define EI_QDW_VEC_(u, v, vi, vl, attr) v
#define EI_QDW_VECI_(u, v, vi, vl, attr) vi
#define EI_QDW_VL_(u, v, vi, vl, attr) vl
#define EI_QDW_ATTR_(u, v, vi, vl, attr) attr
#define EI_QDW_APPLY_(pick, tuple) pick tuple
#define EI_QDW_FIELD(pick) EI_QDW_APPLY_(pick, EI_QDW_ISA)
#define EI_QDW_CAT__(a, b) a##b
#define EI_QDW_CAT_(a, b) EI_QDW_CAT__(a, b)

#define VEC EI_QDW_FIELD(EI_QDW_VEC_)
#define VECI EI_QDW_FIELD(EI_QDW_VECI_)
#define VL EI_QDW_FIELD(EI_QDW_VL_)
/* vectors per pixel, and pixels of a row whose sums stay in registers */
#define NV (EI_QDW_BLOCK / VL)
#define PIX (NV >= 8 ? 1 : 8 / NV)

#include "vec_ops.h"

/* tile: rows x cols x EI_QDW_BLOCK floats, the block's padded input less its
 * zero point; w: taps x EI_QDW_BLOCK; out: out_h x out_w x EI_QDW_BLOCK, the
 * requantised values less the output zero point (whole numbers), and
 * EI_QDW_OUT_SLACK pixels more that the last group may write. */
static EI_QDW_FIELD(EI_QDW_ATTR_) void EI_QDW_CAT_(qdw_block_, EI_QDW_FIELD(EI_QDW_UNIT_))(
    const qdw_geometry *g, const float *tile, const float *w, const int32_t *bias,
    const float *multiplier, float *out)
{
    const int s = g->stride, kh = g->kh, kw = g->kw;
    const long row = (long)g->cols * EI_QDW_BLOCK, step = (long)s * EI_QDW_BLOCK;
    int oy, ox, i, j, p, v;
    for (oy = 0; oy < g->out_h; oy++) {
        for (ox = 0; ox < g->out_w; ox += PIX) {
            /* pixels past the row's end read the tile's slack (their sums are
               stored and overwritten, below) */
            const float *origin = tile + (long)oy * s * row + (long)ox * step;
            float *dst = out + ((long)oy * g->out_w + ox) * EI_QDW_BLOCK;
            VEC acc[PIX][NV];
            for (p = 0; p < PIX; p++)
                for (v = 0; v < NV; v++)
                    acc[p][v] = EI_VSET1(0.0f);
            for (i = 0; i < kh; i++)
                for (j = 0; j < kw; j++) {
                    const float *src = origin + i * row + (long)j * EI_QDW_BLOCK;
                    const float *wt = w + (long)(i * kw + j) * EI_QDW_BLOCK;
                    for (v = 0; v < NV; v++) {
                        const VEC wv = EI_VLOAD(wt + v * VL);
                        for (p = 0; p < PIX; p++)
                            acc[p][v] = EI_VFMA(acc[p][v], wv, EI_VLOAD(src + p * step + v * VL));
                    }
                }
            /* all PIX pixels: those past the row's end land on the next
             * row's first pixels, written again after, or in out's slack of
             * EI_QDW_OUT_SLACK pixels (a store per pixel would copy the
             * accumulators through the stack) */
            for (p = 0; p < PIX; p++)
                for (v = 0; v < NV; v++)
                    EI_VSTORE(dst + p * EI_QDW_BLOCK + v * VL, acc[p][v]);
        }
    }
    /* requantised in place: whole-number sums to int32, the bias, times the
     * multiplier in float32, clamped, rounded to nearest even */
    {
        const long count = (long)g->out_h * g->out_w;
        long q;
#if VL > 1 && !defined(EI_VEC_NEON_INTRINSICS)
        const VEC lo = EI_VSET1(g->lo), hi = EI_VSET1(g->hi), magic = EI_VSET1(12582912.0f);
        for (q = 0; q < count; q++)
            for (v = 0; v < NV; v++) {
                float *at = out + q * EI_QDW_BLOCK + v * VL;
                VECI sum = __builtin_convertvector(EI_VLOAD(at), VECI) + *(const VECI *)(bias + v * VL);
                VEC f = __builtin_convertvector(sum, VEC) * EI_VLOAD(multiplier + v * VL);
                f = EI_VMIN(EI_VMAX(f, lo), hi);
                EI_VSTORE(at, (f + magic) - magic);
            }
#else
        for (q = 0; q < count * EI_QDW_BLOCK; q++) {
            const int lane = (int)(q % EI_QDW_BLOCK);
            float f = (float)((int32_t)out[q] + bias[lane]) * multiplier[lane];
            f = f < g->lo ? g->lo : (f > g->hi ? g->hi : f);
            out[q] = (float)lrintf(f);
        }
#endif
    }
}

#undef VEC
#undef VECI
#undef VL
#undef NV
#undef PIX
#undef EI_QDW_UNIT_
#undef EI_QDW_VEC_
#undef EI_QDW_VECI_
#undef EI_QDW_VL_
#undef EI_QDW_ATTR_
#undef EI_QDW_APPLY_
#undef EI_QDW_FIELD
#undef EI_QDW_CAT_
#undef EI_QDW_CAT__
#undef EI_VEC_NEON_INTRINSICS
#undef EI_QDW_ISA
