/* One output row of a plane filter, included by plane_filter.c once per
 * vector unit. The includer defines ROW_FN, ROW_BODY, ROW_ATTR, VEC, VECI
 * and VL, and STORE_U8_FN (float row -> saturated uint8 row); optionally
 * EI_STORE_BYTES(dst, ints), VL int32 lanes in 0..255 stored as VL bytes.
 * rows[ky] points at the padded input row of tap row ky; tap[kx] is
 * the offset of tap column kx within it (phase and position), so output ox
 * reads rows[ky][tap[kx] + ox]. Four vectors of output per step keep four
 * independent multiply-add chains in flight. */

#include "vec_ops.h"

static inline __attribute__((always_inline)) ROW_ATTR void
ROW_BODY(const float *const *rows, const ptrdiff_t *tap, const int kh, const int kw,
         const float *w, float bias, const float *clamp, float *restrict out, int n)
{
    const VEC vb = EI_VSET1(bias);
    const VEC lo = EI_VSET1(clamp != NULL ? clamp[0] : 0.0f);
    const VEC hi = EI_VSET1(clamp != NULL ? clamp[1] : 0.0f);
    float tail[VL];
    int ox = 0, ky, kx, i;
    for (; ox + 4 * VL <= n; ox += 4 * VL) {
        VEC a0 = vb, a1 = vb, a2 = vb, a3 = vb;
        for (ky = 0; ky < kh; ky++) {
            const float *r = rows[ky] + ox;
            for (kx = 0; kx < kw; kx++) {
                const VEC wv = EI_VSET1(w[ky * kw + kx]);
                const float *p = r + tap[kx];
                a0 = EI_VFMA(a0, wv, EI_VLOAD(p));
                a1 = EI_VFMA(a1, wv, EI_VLOAD(p + VL));
                a2 = EI_VFMA(a2, wv, EI_VLOAD(p + 2 * VL));
                a3 = EI_VFMA(a3, wv, EI_VLOAD(p + 3 * VL));
            }
        }
        if (clamp != NULL) {
            a0 = EI_VMIN(EI_VMAX(a0, lo), hi);
            a1 = EI_VMIN(EI_VMAX(a1, lo), hi);
            a2 = EI_VMIN(EI_VMAX(a2, lo), hi);
            a3 = EI_VMIN(EI_VMAX(a3, lo), hi);
        }
        EI_VSTORE(out + ox, a0);
        EI_VSTORE(out + ox + VL, a1);
        EI_VSTORE(out + ox + 2 * VL, a2);
        EI_VSTORE(out + ox + 3 * VL, a3);
    }
    /* the rest one vector at a time; the last partial one through `tail`
     * (rows carry slack, so reading a full vector there is safe) */
    for (; ox < n; ox += VL) {
        VEC a = vb;
        for (ky = 0; ky < kh; ky++) {
            const float *r = rows[ky] + ox;
            for (kx = 0; kx < kw; kx++)
                a = EI_VFMA(a, EI_VSET1(w[ky * kw + kx]), EI_VLOAD(r + tap[kx]));
        }
        if (clamp != NULL)
            a = EI_VMIN(EI_VMAX(a, lo), hi);
        if (ox + VL <= n) {
            EI_VSTORE(out + ox, a);
        } else {
            EI_VSTORE(tail, a);
            for (i = 0; ox + i < n; i++)
                out[ox + i] = tail[i];
        }
    }
}

static ROW_ATTR void ROW_FN(const float *const *rows, const ptrdiff_t *tap, int kh, int kw,
                            const float *w, float bias, const float *clamp, float *restrict out, int n)
{
    if (kh == 3 && kw == 3)
        ROW_BODY(rows, tap, 3, 3, w, bias, clamp, out, n);
    else if (kh == 5 && kw == 5)
        ROW_BODY(rows, tap, 5, 5, w, bias, clamp, out, n);
    else if (kh == 1 && kw == 3)
        ROW_BODY(rows, tap, 1, 3, w, bias, clamp, out, n);
    else
        ROW_BODY(rows, tap, kh, kw, w, bias, clamp, out, n);
}

static ROW_ATTR void STORE_U8_FN(const float *src, uint8_t *dst, int n)
{
    int i = 0;
#if VL > 1 && !defined(EI_VEC_NEON_INTRINSICS)
    const VEC zero = EI_VSET1(0.0f), top = EI_VSET1(255.0f), magic = EI_VSET1(8388608.0f);
    for (; i + VL <= n; i += VL) {
        VEC v = EI_VMIN(EI_VMAX(EI_VLOAD(src + i), zero), top);
        v = (v + magic) - magic; /* round half to even, like cvRound */
#if defined(EI_STORE_BYTES)
        EI_STORE_BYTES(dst + i, __builtin_convertvector(v, VECI));
#else
        {
            typedef unsigned char bytes __attribute__((vector_size(VL)));
            bytes b = __builtin_convertvector(__builtin_convertvector(v, VECI), bytes);
            memcpy(dst + i, &b, VL);
        }
#endif
    }
#endif
    for (; i < n; i++)
        dst[i] = saturate_u8(src[i]);
}
