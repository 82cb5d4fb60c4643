/* The GEMM micro-kernel, written once and included by gemm.c once per vector
 * unit. The includer defines TILE_FN (name), TILE_ATTR (target attribute or
 * nothing), VEC, VECI, VL, MR (rows of A per tile) and NRV (vectors of B per
 * tile row). The accumulators (MR x NRV vectors) stay in registers across
 * the k loop: each step loads NRV vectors of B, broadcasts MR values of A
 * (one from each of MR row streams, read in place: each cache line of a row
 * serves 16 steps, so A needs no packing) and issues MR * NRV multiply-adds. */

#include "prefetch.h"
#include "vec_ops.h"

#define TILE_NR (VL * NRV)
#define TAIL_NV ((MR + VL - 1) / VL) /* vectors of one packed step of A */

/* Every loop over the accumulators unrolled: one left rolled keeps the whole
 * array in memory, and 32-bit ARM gcc then stored it back every k step. */
#ifndef EI_UNROLL
#if defined(__clang__)
#define EI_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define EI_UNROLL _Pragma("GCC unroll 16")
#else
#define EI_UNROLL
#endif
#endif
/* The scalar loops of a partial tile's edges, kept rolled: unrolled and
 * vectorised in every tile instantiation they only cost compile time (clang
 * with UBSan took minutes over gemm.c). */
#ifndef EI_ROLLED
#if defined(__clang__)
#define EI_ROLLED _Pragma("clang loop unroll(disable) vectorize(disable)")
#elif defined(__GNUC__)
#define EI_ROLLED _Pragma("GCC unroll 1")
#else
#define EI_ROLLED
#endif
#endif

#if defined(TILE_INDIRECT)
/* B's k-th row starts at b_rows[k] + b_col: a table of row pointers into the
 * padded input replaces im2col (indirect convolution) */
static TILE_ATTR void TILE_FN(int kc, const float *a, ptrdiff_t lda,
                              const float *const *b_rows, ptrdiff_t b_col, float *c,
                              ptrdiff_t ldc, int m, int n, const ei_epilogue *ep, int accumulate,
                              int last)
#else
static TILE_ATTR void TILE_FN(int kc, const float *a, ptrdiff_t lda, const float *b,
                              ptrdiff_t ldb, float *c, ptrdiff_t ldc, int m, int n,
                              const ei_epilogue *ep, int accumulate, int last)
#endif
{
    VEC acc[MR][NRV];
    const float *row[MR];
    float edge[MR * TILE_NR]; /* a partial tile passes through here */
    const int full = m == MR && n == TILE_NR;
    int i, j, v, k;

#if defined(TILE_PACKED_A)
    /* A packed (ei_gemm_pack_a): step k's MR values at a + k * MR, rows past
     * m zero; lda is unused */
    (void)lda;
    EI_UNROLL
    for (i = 0; i < MR; i++)
        row[i] = a + i;
#define A_AT(i, k) row[i][(k) * MR]
/* Packed A is a 1x1 layer's weights, which come in from L3 (or memory) on
 * every inference, as a model's weights outgrow L2: on a 7x7 map each step
 * of them serves one panel only, and the hardware's prefetcher ran too close
 * ahead. The line A_PREFETCH_BYTES ahead is asked for at each step whose
 * MR values start a new 64-byte line (every second step for MR = 8, every
 * fourth for MR = 4, three in eight for MR = 6); on 32-byte-line ARM cores
 * every other line goes unasked, which only leaves those to the hardware.
 * When a pass covers all of K (maps of up to 256 positions), the hints past
 * the end of a group of rows fall on the next group's. (Paired runs inside
 * EfficientNet-Lite0, one thread: 0.95-0.96x the time at 1 KB ahead with
 * AVX-512 and with AVX2, and 0.96-0.99x that again at 2 KB.) */
#define A_PREFETCH_BYTES 2048
#define A_LINE_FLOATS 16
#else
    EI_UNROLL
    for (i = 0; i < MR; i++) /* rows past m repeat the last one; their sums are dropped */
        row[i] = a + (i < m ? i : m - 1) * lda;
#define A_AT(i, k) row[i][k]
#endif
#if defined(TILE_TAIL)
    /* TILE_TAIL more columns right of the tile (B's next ones, read in
     * place), with the rows of the packed A as the vector lanes: each step
     * one load of A and a multiply-add per column, hidden among the tile's */
    VEC tail[TILE_TAIL][TAIL_NV];
    float tail_edge[TILE_TAIL][TAIL_NV * VL];
    EI_ROLLED
    for (j = 0; j < TILE_TAIL; j++)
        EI_ROLLED
        for (i = 0; i < TAIL_NV * VL; i++)
            tail_edge[j][i] = i >= m               ? 0.0f
                              : accumulate         ? c[i * ldc + TILE_NR + j]
                              : ep->bias != NULL   ? ep->bias[i]
                                                   : 0.0f;
    EI_UNROLL
    for (j = 0; j < TILE_TAIL; j++)
        EI_UNROLL
        for (v = 0; v < TAIL_NV; v++)
            tail[j][v] = EI_VLOAD(tail_edge[j] + v * VL);
#endif
    if (accumulate) {
        if (full) {
            EI_UNROLL
            for (i = 0; i < MR; i++)
                EI_UNROLL
                for (v = 0; v < NRV; v++)
                    acc[i][v] = EI_VLOAD(c + i * ldc + v * VL);
        } else {
            EI_UNROLL
            for (i = 0; i < MR; i++)
                for (j = 0; j < TILE_NR; j++)
                    edge[i * TILE_NR + j] = i < m && j < n ? c[i * ldc + j] : 0.0f;
            EI_UNROLL
            for (i = 0; i < MR; i++)
                EI_UNROLL
                for (v = 0; v < NRV; v++)
                    acc[i][v] = EI_VLOAD(edge + i * TILE_NR + v * VL);
        }
    } else {
        EI_UNROLL
        for (i = 0; i < MR; i++) {
            const VEC start = EI_VSET1(ep->bias != NULL && i < m ? ep->bias[i] : 0.0f);
            EI_UNROLL
            for (v = 0; v < NRV; v++)
                acc[i][v] = start;
        }
    }

    for (k = 0; k < kc; k++) {
        VEC bv[NRV];
#if defined(TILE_PACKED_A)
        if (k * MR % A_LINE_FLOATS < MR)
            EI_PREFETCH(a + (ptrdiff_t)k * MR, A_PREFETCH_BYTES);
#endif
#if defined(TILE_INDIRECT)
        const float *b = b_rows[k] + b_col;
#endif
        EI_UNROLL
        for (v = 0; v < NRV; v++)
            bv[v] = EI_VLOAD(b + v * VL);
        EI_UNROLL
        for (i = 0; i < MR; i++) {
            const VEC ai = EI_VSET1(A_AT(i, k));
            EI_UNROLL
            for (v = 0; v < NRV; v++)
                acc[i][v] = EI_VFMA(acc[i][v], ai, bv[v]);
        }
#if defined(TILE_TAIL)
        {
            VEC av[TAIL_NV];
            EI_UNROLL
            for (v = 0; v < TAIL_NV; v++)
                av[v] = EI_VLOAD(a + k * MR + v * VL);
            EI_UNROLL
            for (j = 0; j < TILE_TAIL; j++) {
                const VEC bj = EI_VSET1(b[TILE_NR + j]);
                EI_UNROLL
                for (v = 0; v < TAIL_NV; v++)
                    tail[j][v] = EI_VFMA(tail[j][v], av[v], bj);
            }
        }
#endif
#if !defined(TILE_INDIRECT)
        b += ldb;
#endif
    }

#if defined(TILE_TAIL)
    if (last && ep->residual != NULL) {
        EI_ROLLED
        for (j = 0; j < TILE_TAIL; j++)
            EI_ROLLED
            for (i = 0; i < TAIL_NV * VL; i++)
                tail_edge[j][i] = i < m ? ep->residual[i * ldc + TILE_NR + j] : 0.0f;
        EI_UNROLL
        for (j = 0; j < TILE_TAIL; j++)
            EI_UNROLL
            for (v = 0; v < TAIL_NV; v++)
                tail[j][v] = EI_VADD(tail[j][v], EI_VLOAD(tail_edge[j] + v * VL));
    }
    if (last && ep->clamp) {
        const VEC lo = EI_VSET1(ep->lo), hi = EI_VSET1(ep->hi);
        EI_UNROLL
        for (j = 0; j < TILE_TAIL; j++)
            EI_UNROLL
            for (v = 0; v < TAIL_NV; v++)
                tail[j][v] = EI_VMIN(EI_VMAX(tail[j][v], lo), hi);
    }
    EI_UNROLL
    for (j = 0; j < TILE_TAIL; j++)
        EI_UNROLL
        for (v = 0; v < TAIL_NV; v++)
            EI_VSTORE(tail_edge[j] + v * VL, tail[j][v]);
    EI_ROLLED
    for (i = 0; i < m; i++)
        EI_ROLLED
        for (j = 0; j < TILE_TAIL; j++)
            c[i * ldc + TILE_NR + j] = tail_edge[j][i];
#endif

    if (last && ep->residual != NULL) {
        if (full) {
            EI_UNROLL
            for (i = 0; i < MR; i++)
                EI_UNROLL
                for (v = 0; v < NRV; v++)
                    acc[i][v] = EI_VADD(acc[i][v], EI_VLOAD(ep->residual + i * ldc + v * VL));
        } else {
            EI_UNROLL
            for (i = 0; i < MR; i++)
                for (j = 0; j < TILE_NR; j++)
                    edge[i * TILE_NR + j] = i < m && j < n ? ep->residual[i * ldc + j] : 0.0f;
            EI_UNROLL
            for (i = 0; i < MR; i++)
                EI_UNROLL
                for (v = 0; v < NRV; v++)
                    acc[i][v] = EI_VADD(acc[i][v], EI_VLOAD(edge + i * TILE_NR + v * VL));
        }
    }

    if (last && ep->clamp) {
        const VEC lo = EI_VSET1(ep->lo), hi = EI_VSET1(ep->hi);
        EI_UNROLL
        for (i = 0; i < MR; i++)
            EI_UNROLL
            for (v = 0; v < NRV; v++)
                acc[i][v] = EI_VMIN(EI_VMAX(acc[i][v], lo), hi);
    }

    if (full) {
        EI_UNROLL
        for (i = 0; i < MR; i++)
            EI_UNROLL
            for (v = 0; v < NRV; v++)
                EI_VSTORE(c + i * ldc + v * VL, acc[i][v]);
    } else {
        EI_UNROLL
        for (i = 0; i < MR; i++)
            EI_UNROLL
            for (v = 0; v < NRV; v++)
                EI_VSTORE(edge + i * TILE_NR + v * VL, acc[i][v]);
        for (i = 0; i < m; i++)
            for (j = 0; j < n; j++)
                c[i * ldc + j] = edge[i * TILE_NR + j];
    }
}

#undef A_AT
#undef A_PREFETCH_BYTES
#undef A_LINE_FLOATS
#undef TAIL_NV
#undef TILE_NR
