/* The columns of C narrower than one vector, as dot products along k: a tile
 * would compute them a whole vector wide and drop most of it (on a 7x7 map,
 * 49 = 3 x 16 + 1 columns, the one left over cost a sixth of the layer).
 * Included by gemm.c once per vector unit; the includer defines NARROW_FN,
 * TILE_ATTR, VEC, VL and, on 32-bit ARM, EI_VEC_NEON_INTRINSICS.
 *
 * C (m x n) = A (m x k, row stride lda) . B, with B given as its n columns
 * (bt: column j at bt + j * k, k contiguous floats), bias and clamp from ep. */

#include "vec_ops.h"

static TILE_ATTR void NARROW_FN(int m, int n, int k, const float *a, ptrdiff_t lda,
                                const float *bt, float *c, ptrdiff_t ldc, const ei_epilogue *ep)
{
    int i, j, kk, l;
    for (i = 0; i < m; i++) {
        const float *ar = a + (ptrdiff_t)i * lda;
        for (j = 0; j < n; j++) {
            const float *bj = bt + (size_t)j * k;
            /* two chains, so consecutive multiply-adds do not wait on each other */
            VEC s0 = EI_VSET1(0.0f), s1 = EI_VSET1(0.0f);
            float lanes[2 * VL], sum = ep->bias != NULL ? ep->bias[i] : 0.0f;
            for (kk = 0; kk + 2 * VL <= k; kk += 2 * VL) {
                s0 = EI_VFMA(s0, EI_VLOAD(ar + kk), EI_VLOAD(bj + kk));
                s1 = EI_VFMA(s1, EI_VLOAD(ar + kk + VL), EI_VLOAD(bj + kk + VL));
            }
            for (; kk + VL <= k; kk += VL)
                s0 = EI_VFMA(s0, EI_VLOAD(ar + kk), EI_VLOAD(bj + kk));
            EI_VSTORE(lanes, s0);
            EI_VSTORE(lanes + VL, s1);
            for (l = 0; l < 2 * VL; l++)
                sum += lanes[l];
            for (; kk < k; kk++)
                sum += ar[kk] * bj[kk];
            if (ep->residual != NULL)
                sum += ep->residual[(ptrdiff_t)i * ldc + j];
            if (ep->clamp) { /* NaN passes, as through the tiles' clamp */
                sum = sum < ep->lo ? ep->lo : sum;
                sum = sum > ep->hi ? ep->hi : sum;
            }
            c[(ptrdiff_t)i * ldc + j] = sum;
        }
    }
}
