/* The columns of C narrower than one vector, as dot products along k: a tile
 * would compute them a whole vector wide and drop most of it (on a 7x7 map,
 * 49 = 3 x 16 + 1 columns, the one left over cost a sixth of the layer).
 * Included by gemm.c once per vector unit; the includer defines NARROW_FN,
 * TILE_ATTR, VEC, VL and, on 32-bit ARM, EI_VEC_NEON_INTRINSICS.
 *
 * C (m x n) = A (m x k, row stride lda) . B, with B given as its n columns
 * (bt: column j at bt + j * k, k contiguous floats), bias and clamp from ep.
 *
 * Dot products one at a time were bound by latency: each waited on its own
 * chain of multiply-adds and then on a lane-by-lane sum (on 14x14 maps the 4
 * columns past 12 vectors cost a third of a layer). A block takes R rows and
 * C columns at once, R x C = 4 independent chains, each row and column
 * vector loaded once for the block; its sums are reduced together at the end. */

#include "vec_ops.h"

#define NARROW_BLOCK EI_CAT(NARROW_FN, _block)

/* Rows i0.. i0 + R - 1 and columns j0 .. j0 + C - 1 of C; R and C are
 * constants where it is called, so every loop over them unrolls. */
static TILE_ATTR inline __attribute__((always_inline)) void
NARROW_BLOCK(int R, int C, int i0, int j0, int k, const float *a, ptrdiff_t lda, const float *bt,
             float *c, ptrdiff_t ldc, const ei_epilogue *ep)
{
    VEC acc[4][4];
    float lanes[4][4][VL], sums[4][4];
    int r, j, kk, l, w;
    EI_UNROLL
    for (r = 0; r < R; r++)
        EI_UNROLL
        for (j = 0; j < C; j++)
            acc[r][j] = EI_VSET1(0.0f);
    for (kk = 0; kk + VL <= k; kk += VL) {
        VEC av[4], bv[4];
        EI_UNROLL
        for (r = 0; r < R; r++)
            av[r] = EI_VLOAD(a + (ptrdiff_t)(i0 + r) * lda + kk);
        EI_UNROLL
        for (j = 0; j < C; j++)
            bv[j] = EI_VLOAD(bt + (size_t)(j0 + j) * k + kk);
        EI_UNROLL
        for (r = 0; r < R; r++)
            EI_UNROLL
            for (j = 0; j < C; j++)
                acc[r][j] = EI_VFMA(acc[r][j], av[r], bv[j]);
    }
    EI_UNROLL
    for (r = 0; r < R; r++)
        EI_UNROLL
        for (j = 0; j < C; j++) {
            EI_VSTORE(lanes[r][j], acc[r][j]);
            for (w = VL / 2; w >= 1; w /= 2) /* a tree, log2(VL) deep */
                for (l = 0; l < w; l++)
                    lanes[r][j][l] += lanes[r][j][l + w];
            sums[r][j] = lanes[r][j][0];
        }
    for (; kk < k; kk++)
        for (r = 0; r < R; r++)
            for (j = 0; j < C; j++)
                sums[r][j] += a[(ptrdiff_t)(i0 + r) * lda + kk] * bt[(size_t)(j0 + j) * k + kk];
    for (r = 0; r < R; r++)
        for (j = 0; j < C; j++) {
            const ptrdiff_t at = (ptrdiff_t)(i0 + r) * ldc + j0 + j;
            float sum = sums[r][j] + (ep->bias != NULL ? ep->bias[i0 + r] : 0.0f);
            if (ep->residual != NULL)
                sum += ep->residual[at];
            if (ep->clamp) { /* NaN passes, as through the tiles' clamp */
                sum = sum < ep->lo ? ep->lo : sum;
                sum = sum > ep->hi ? ep->hi : sum;
            }
            c[at] = sum;
        }
}

static TILE_ATTR void NARROW_FN(int m, int n, int k, const float *a, ptrdiff_t lda,
                                const float *bt, float *c, ptrdiff_t ldc, const ei_epilogue *ep)
{
    int i, j0 = 0;
    /* four columns a row, then two rows of two, then four rows of one */
    for (; j0 + 4 <= n; j0 += 4)
        for (i = 0; i < m; i++)
            NARROW_BLOCK(1, 4, i, j0, k, a, lda, bt, c, ldc, ep);
    if (j0 + 2 <= n) {
        for (i = 0; i + 2 <= m; i += 2)
            NARROW_BLOCK(2, 2, i, j0, k, a, lda, bt, c, ldc, ep);
        for (; i < m; i++)
            NARROW_BLOCK(1, 2, i, j0, k, a, lda, bt, c, ldc, ep);
        j0 += 2;
    }
    if (j0 < n) {
        for (i = 0; i + 4 <= m; i += 4)
            NARROW_BLOCK(4, 1, i, j0, k, a, lda, bt, c, ldc, ep);
        for (; i < m; i++)
            NARROW_BLOCK(1, 1, i, j0, k, a, lda, bt, c, ldc, ep);
    }
}

#undef NARROW_BLOCK
