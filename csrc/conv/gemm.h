/* Register-tiled single-precision GEMM: the engine under 1x1 and im2col
 * convolutions. C (m x n, row stride ldc) = A (m x k, row stride lda) .
 * B (k x n), plus a bias per row and an optional clamp. B is packed into the
 * panel layout the micro-kernel of the active vector unit reads; A (the
 * weights) is read in place. */
#ifndef EDGEINFER_GEMM_H
#define EDGEINFER_GEMM_H

#include <stddef.h>

#include "cpu.h"

/* Bias per row of C, a residual added and the clamp applied in its last
 * write: C = clamp(A . B + bias + R). */
typedef struct {
    const float *bias;     /* m values, or NULL */
    const float *residual; /* R, laid out as C (same ldc) from C's first element, or NULL */
    int clamp;             /* 0: no clamp (NaN passes through) */
    float lo, hi;
} ei_epilogue;

/* One micro-kernel: computes an mr x nr tile of C from kc steps of m rows of
 * A and a panel of B whose k steps lie ldb floats apart (the panel width when
 * packed); m <= mr and n <= nr say how much of the tile is stored, but whole
 * vectors of B are read. With accumulate the tile is added to C, else C is
 * overwritten. */
typedef void (*ei_gemm_tile_fn)(int kc, const float *a, ptrdiff_t lda, const float *b,
                                ptrdiff_t ldb, float *c, ptrdiff_t ldc, int m, int n,
                                const ei_epilogue *ep, int accumulate, int last);

/* The same tile with B's k-th row at b_rows[k] + b_col (indirect
 * convolution: row pointers into the padded input instead of im2col). */
typedef void (*ei_gemm_indirect_tile_fn)(int kc, const float *a, ptrdiff_t lda,
                                         const float *const *b_rows, ptrdiff_t b_col, float *c,
                                         ptrdiff_t ldc, int m, int n, const ei_epilogue *ep,
                                         int accumulate, int last);

/* C (m x n) = A . B for n below one vector, as dot products along k; B is
 * given as its n columns (column j at bt + j * k). Overwrites C. */
typedef void (*ei_gemm_narrow_fn)(int m, int n, int k, const float *a, ptrdiff_t lda,
                                  const float *bt, float *c, ptrdiff_t ldc,
                                  const ei_epilogue *ep);

/* The columns of a tile's rows past the last whole vector (n of them), with
 * A packed (a: the panel's kc steps) and B read in place; accumulate and
 * last as for a tile. */
typedef void (*ei_gemm_tail_fn)(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c,
                                ptrdiff_t ldc, int m, int n, const ei_epilogue *ep,
                                int accumulate, int last);

typedef struct {
    int mr, nr, vl;           /* tile rows, full tile columns, floats per vector */
    ei_gemm_tile_fn tile[4];  /* tile[v - 1]: v vectors wide; tile[nr / vl - 1] is the full one */
    ei_gemm_indirect_tile_fn indirect[4]; /* the same widths, B through row pointers */
    ei_gemm_tile_fn packed_a[4];          /* the same widths, A packed by ei_gemm_pack_a */
    /* packed_a_tail[t - 1]: the full-width packed_a and the first t columns
     * of the tail right of it, in the same pass (NULL: none, with vl 1) */
    ei_gemm_tile_fn packed_a_tail[4];
    ei_gemm_narrow_fn narrow; /* the columns left over, fewer than vl */
    ei_gemm_tail_fn tail;     /* the same with A packed */
    ei_simd_level level;
} ei_gemm_kernel;

/* The micro-kernel for a vector unit (the portable one when it is not built). */
ei_gemm_kernel ei_gemm_kernel_for(ei_simd_level level);

/* Floats of a packed B (k x n). */
size_t ei_gemm_packed_b_size(const ei_gemm_kernel *kernel, int k, int n);

/* Width of the panel that holds n (or more) remaining columns: nr, or for
 * the last, narrower panel n rounded up to whole vectors. */
int ei_gemm_panel_width(const ei_gemm_kernel *kernel, int n);

/* C = A . B with B packed, one thread. B is packed by the caller (see
 * im2col.h): panel j starts at column j * nr, holds k steps of
 * ei_gemm_panel_width(kernel, n - j * nr) values. */
void ei_gemm_packed(const ei_gemm_kernel *kernel, int m, int n, int k, const float *a,
                    ptrdiff_t lda, const float *packed_b, float *c, ptrdiff_t ldc,
                    const ei_epilogue *ep);

/* The same with B read in place (k rows of n, row stride ldb): for 1x1
 * convolutions, whose B is the input itself. n must be a whole number of
 * vectors (kernel->vl), since the tiles read whole vectors. */
void ei_gemm_in_place(const ei_gemm_kernel *kernel, int m, int n, int k, const float *a,
                      ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                      const ei_epilogue *ep);

/* A (m x k) packed once for many products (a layer's weights): panels of mr
 * rows, each k steps of the mr values of one column of A (panel p, step s,
 * row i at packed[(p * k + s) * mr + i]), rows past m zero, so that a tile
 * reads A as one stream and the tail reads a step as whole vectors (vl
 * floats of slack follow the last panel). The layout depends on the kernel's
 * mr: a packed A belongs to the kernel that packed it. */
size_t ei_gemm_packed_a_size(const ei_gemm_kernel *kernel, int m, int k);
void ei_gemm_pack_a(const ei_gemm_kernel *kernel, int m, int k, const float *a, ptrdiff_t lda,
                    float *packed);

/* ei_gemm_in_place with A packed (rows from a multiple of mr on: the packed
 * A of the whole matrix, offset by first_row / mr panels) and any n: the
 * columns past the last whole vector through the kernel's tail. */
void ei_gemm_packed_a_in_place(const ei_gemm_kernel *kernel, int m, int n, int k,
                               const float *packed_a, int first_row, const float *b,
                               ptrdiff_t ldb, float *c, ptrdiff_t ldc, const ei_epilogue *ep);

/* Floats a tile may read past the last column of B it was given. */
#define EI_GEMM_SLACK 16

/* The same with B's k-th row at b_rows[k] + b_col, n columns of it (whole
 * vectors are read past n, up to the panel width). */
void ei_gemm_indirect(const ei_gemm_kernel *kernel, int m, int n, int k, const float *a,
                      ptrdiff_t lda, const float *const *b_rows, ptrdiff_t b_col, float *c,
                      ptrdiff_t ldc, const ei_epilogue *ep);

#endif
