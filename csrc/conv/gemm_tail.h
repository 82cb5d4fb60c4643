/* The columns of C past the last whole vector when A is packed
 * (ei_gemm_pack_a) that the last tile did not take in (gemm_tile.h with
 * TILE_TAIL: up to four, and only after a full-width tile): a map narrower
 * than a vector, a 1-D map's many. The rows of A's panel are the vector
 * lanes, so a step of k is one load of the panel (the MR values lie
 * together; lanes past MR read the next step's and are dropped) and one
 * broadcast of B per column. It runs in the same pass over k as the
 * panel's tiles, while the panel's chunk of A is still in L1; dot products
 * per row (gemm_narrow.h) re-read A and must sum lanes.
 * Included by gemm.c once per vector unit; the includer defines TAIL_FN,
 * TILE_ATTR, VEC, VECI, VL, MR and, on 32-bit ARM, EI_VEC_NEON_INTRINSICS.
 *
 * C (m x n, m <= MR) = the panel a (kc steps of MR values) . B read in
 * place (step k's n values at b + k * ldb), with accumulate and last as the
 * tiles take them. */

#include "vec_ops.h"

#define TAIL_NV ((MR + VL - 1) / VL) /* vectors of a panel step */
#define TAIL_LANES (TAIL_NV * VL)
#define TAIL_BLOCK EI_CAT(TAIL_FN, _block)

/* Columns j0 .. j0 + T - 1; T is a constant where it is called. */
static TILE_ATTR inline __attribute__((always_inline)) void
TAIL_BLOCK(int T, int j0, int kc, const float *a, const float *b, ptrdiff_t ldb, float *c,
           ptrdiff_t ldc, int m, const ei_epilogue *ep, int accumulate, int last)
{
    VEC acc[4][TAIL_NV];
    float edge[4][TAIL_LANES]; /* the lanes, one column of C each */
    int i, j, v, k;
    EI_ROLLED
    for (j = 0; j < T; j++)
        EI_ROLLED
        for (i = 0; i < TAIL_LANES; i++)
            edge[j][i] = i >= m                ? 0.0f
                         : accumulate          ? c[i * ldc + j0 + j]
                         : ep->bias != NULL    ? ep->bias[i]
                                               : 0.0f;
    EI_UNROLL
    for (j = 0; j < T; j++)
        EI_UNROLL
        for (v = 0; v < TAIL_NV; v++)
            acc[j][v] = EI_VLOAD(edge[j] + v * VL);
    for (k = 0; k < kc; k++) {
        VEC av[TAIL_NV];
        EI_UNROLL
        for (v = 0; v < TAIL_NV; v++)
            av[v] = EI_VLOAD(a + k * MR + v * VL);
        EI_UNROLL
        for (j = 0; j < T; j++) {
            const VEC bj = EI_VSET1(b[k * ldb + j0 + j]);
            EI_UNROLL
            for (v = 0; v < TAIL_NV; v++)
                acc[j][v] = EI_VFMA(acc[j][v], av[v], bj);
        }
    }
    if (last && ep->residual != NULL) {
        EI_ROLLED
        for (j = 0; j < T; j++)
            EI_ROLLED
            for (i = 0; i < TAIL_LANES; i++)
                edge[j][i] = i < m ? ep->residual[i * ldc + j0 + j] : 0.0f;
        EI_UNROLL
        for (j = 0; j < T; j++)
            EI_UNROLL
            for (v = 0; v < TAIL_NV; v++)
                acc[j][v] = EI_VADD(acc[j][v], EI_VLOAD(edge[j] + v * VL));
    }
    if (last && ep->clamp) {
        const VEC lo = EI_VSET1(ep->lo), hi = EI_VSET1(ep->hi);
        EI_UNROLL
        for (j = 0; j < T; j++)
            EI_UNROLL
            for (v = 0; v < TAIL_NV; v++)
                acc[j][v] = EI_VMIN(EI_VMAX(acc[j][v], lo), hi);
    }
    EI_UNROLL
    for (j = 0; j < T; j++)
        EI_UNROLL
        for (v = 0; v < TAIL_NV; v++)
            EI_VSTORE(edge[j] + v * VL, acc[j][v]);
    EI_ROLLED
    for (i = 0; i < m; i++)
        EI_ROLLED
        for (j = 0; j < T; j++)
            c[i * ldc + j0 + j] = edge[j][i];
}

static TILE_ATTR void TAIL_FN(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c,
                              ptrdiff_t ldc, int m, int n, const ei_epilogue *ep, int accumulate,
                              int last)
{
    int j0;
    /* four columns at a time: t + 1 of the 16 vector registers an SSE2 or
     * AVX2 tail may hold */
    for (j0 = 0; j0 < n; j0 += 4) {
        switch (n - j0) {
        case 1:
            TAIL_BLOCK(1, j0, kc, a, b, ldb, c, ldc, m, ep, accumulate, last);
            break;
        case 2:
            TAIL_BLOCK(2, j0, kc, a, b, ldb, c, ldc, m, ep, accumulate, last);
            break;
        case 3:
            TAIL_BLOCK(3, j0, kc, a, b, ldb, c, ldc, m, ep, accumulate, last);
            break;
        default:
            TAIL_BLOCK(4, j0, kc, a, b, ldb, c, ldc, m, ep, accumulate, last);
        }
    }
}

#undef TAIL_BLOCK
#undef TAIL_LANES
#undef TAIL_NV
