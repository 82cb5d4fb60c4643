#include "gemm.h"

#include <string.h>

#include "vec.h"

/* Plain C: the fallback every build has, and the reference for the others. */
#define EI_GEMM_ISA (tile_portable, float, int, 1, 4, 4, )
#include "gemm_isa.h"

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
/* SSE2 has no FMA and 16 registers: 4 x 8 leaves room for the products. */
#define EI_GEMM_ISA (tile_sse2, ei_f32x4, ei_i32x4, 4, 4, 2, __attribute__((target("sse2"))))
#include "gemm_isa.h"

/* AVX2: 6 x 16 is 12 accumulators + 2 of B + 1 broadcast = 15 of 16 registers. */
#define EI_GEMM_ISA (tile_avx2, ei_f32x8, ei_i32x8, 8, 6, 2, __attribute__((target("avx2,fma"))))
#include "gemm_isa.h"

/* AVX-512: 8 x 48 is 24 accumulators + 3 of B + 1 broadcast of 32 registers;
 * 8 rows divide the channel counts of real networks, so no row is wasted. */
#define EI_GEMM_ISA (tile_avx512, ei_f32x16, ei_i32x16, 16, 8, 3, __attribute__((target("avx512f"))))
#include "gemm_isa.h"
#endif

#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
#if defined(__aarch64__)
/* 32 registers: 8 x 8 is 16 accumulators + 2 of B + 8 weights (one per
 * row stream); 8 x 12 would not fit */
#define EI_GEMM_ISA (tile_neon, ei_f32x4, ei_i32x4, 4, 8, 2, )
#else
/* 32-bit ARM: intrinsics, and 16 quad registers: 4 x 8; the intrinsics need
 * no integer vector type */
#include <arm_neon.h>
#define EI_VEC_NEON_INTRINSICS 1
#define EI_GEMM_ISA (tile_neon, float32x4_t, int32x4_t, 4, 4, 2, )
#endif
#include "gemm_isa.h"
#endif

static ei_gemm_kernel make_kernel(ei_simd_level level, int mr, int vl, int widths,
                                  const ei_gemm_tile_fn *tiles,
                                  const ei_gemm_indirect_tile_fn *indirect,
                                  const ei_gemm_tile_fn *packed_a,
                                  const ei_gemm_tile_fn *packed_a_tail,
                                  ei_gemm_narrow_fn narrow, ei_gemm_tail_fn tail)
{
    ei_gemm_kernel k;
    int i;
    k.level = level;
    k.mr = mr;
    k.vl = vl;
    k.nr = vl * widths;
    for (i = 0; i < 4; i++) {
        k.tile[i] = i < widths ? tiles[i] : NULL;
        k.indirect[i] = i < widths ? indirect[i] : NULL;
        k.packed_a[i] = i < widths ? packed_a[i] : NULL;
        k.packed_a_tail[i] = packed_a_tail[i];
    }
    k.narrow = narrow;
    k.tail = tail;
    return k;
}

/* Each vector unit's tiles, narrowest first, as gemm_tiles.h named them. */
#define TILES2(P) {P##_1, P##_2}
#define TILES3(P) {P##_1, P##_2, P##_3}
#define TILES4(P) {P##_1, P##_2, P##_3, P##_4}
#define TAILS(P) {P##_packed_a_tail_1, P##_packed_a_tail_2, P##_packed_a_tail_3, \
                  P##_packed_a_tail_4}

ei_gemm_kernel ei_gemm_kernel_for(ei_simd_level level)
{
    static const ei_gemm_tile_fn portable[] = TILES4(tile_portable);
    static const ei_gemm_indirect_tile_fn portable_indirect[] = TILES4(tile_portable_indirect);
    static const ei_gemm_tile_fn portable_packed_a[] = TILES4(tile_portable_packed_a);
    static const ei_gemm_tile_fn portable_tails[4] = {NULL}; /* vectors of one float */
    (void)level; /* unused when only the portable kernel is built */
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    {
        static const ei_gemm_tile_fn sse2[] = TILES2(tile_sse2);
        static const ei_gemm_indirect_tile_fn sse2_indirect[] = TILES2(tile_sse2_indirect);
        static const ei_gemm_tile_fn sse2_packed_a[] = TILES2(tile_sse2_packed_a);
        static const ei_gemm_tile_fn sse2_tails[] = TAILS(tile_sse2);
        static const ei_gemm_tile_fn avx2[] = TILES2(tile_avx2);
        static const ei_gemm_indirect_tile_fn avx2_indirect[] = TILES2(tile_avx2_indirect);
        static const ei_gemm_tile_fn avx2_packed_a[] = TILES2(tile_avx2_packed_a);
        static const ei_gemm_tile_fn avx2_tails[] = TAILS(tile_avx2);
        static const ei_gemm_tile_fn avx512[] = TILES3(tile_avx512);
        static const ei_gemm_indirect_tile_fn avx512_indirect[] = TILES3(tile_avx512_indirect);
        static const ei_gemm_tile_fn avx512_packed_a[] = TILES3(tile_avx512_packed_a);
        static const ei_gemm_tile_fn avx512_tails[] = TAILS(tile_avx512);
        if (level == EI_SIMD_SSE2)
            return make_kernel(level, 4, 4, 2, sse2, sse2_indirect, sse2_packed_a,
                               sse2_tails, tile_sse2_narrow, tile_sse2_tail);
        if (level == EI_SIMD_AVX2)
            return make_kernel(level, 6, 8, 2, avx2, avx2_indirect, avx2_packed_a,
                               avx2_tails, tile_avx2_narrow, tile_avx2_tail);
        if (level == EI_SIMD_AVX512)
            return make_kernel(level, 8, 16, 3, avx512, avx512_indirect, avx512_packed_a,
                               avx512_tails, tile_avx512_narrow, tile_avx512_tail);
    }
#endif
#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    {
        static const ei_gemm_tile_fn neon[] = TILES2(tile_neon);
        static const ei_gemm_indirect_tile_fn neon_indirect[] = TILES2(tile_neon_indirect);
        static const ei_gemm_tile_fn neon_packed_a[] = TILES2(tile_neon_packed_a);
        static const ei_gemm_tile_fn neon_tails[] = TAILS(tile_neon);
#if defined(__aarch64__)
        if (level == EI_SIMD_NEON)
            return make_kernel(level, 8, 4, 2, neon, neon_indirect, neon_packed_a,
                               neon_tails, tile_neon_narrow, tile_neon_tail);
#else
        if (level == EI_SIMD_NEON)
            return make_kernel(level, 4, 4, 2, neon, neon_indirect, neon_packed_a,
                               neon_tails, tile_neon_narrow, tile_neon_tail);
#endif
    }
#endif
    return make_kernel(EI_SIMD_PORTABLE, 4, 1, 4, portable, portable_indirect, portable_packed_a,
                       portable_tails, tile_portable_narrow, tile_portable_tail);
}

int ei_gemm_panel_width(const ei_gemm_kernel *kernel, int n)
{
    return n >= kernel->nr ? kernel->nr : (n + kernel->vl - 1) / kernel->vl * kernel->vl;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

size_t ei_gemm_packed_b_size(const ei_gemm_kernel *kernel, int k, int n)
{
    return round_up((size_t)n, (size_t)kernel->vl) * (size_t)k;
}

/* Bytes of a kc x nr slice of B (half of a 32-48 KB L1 data cache): it bounds
 * a pass over k, so that the mr rows of A a tile reads (kc steps each) and
 * the panel it is working on stay in L1 together. */
#define B_SLICE_BYTES 24576

/* With packed weights (1x1 layers) on a small map, B across all the map's
 * columns, n floats a step, is what each group of rows re-reads: a pass
 * over k may be as long as 40 KB of it allows, when that is longer than
 * the panel slice gives (48 KB L1 on the AVX-512 Xeon measured: 192 -> 1152
 * at 7x7 in one pass instead of two, 0.95x the time; 160 -> 960, 0.87x). */
#define SMALL_MAP_B_BYTES 40960

/* On a map of at most this many columns (14x14: four panels) the pass may be
 * as long as 768 KB of B allows, from L2: the whole of k for every 7x7 and
 * 14x14 layer of EfficientNet-Lite0 and MobileNetV2. Each group of rows then
 * reads its packed A as one stream and writes C once, instead of jumping
 * between the panels' chunks pass after pass and re-reading C: the reduce
 * layers (1152 -> 192 at 7x7, 672 -> 112 at 14x14, 320 -> 1280 at 7x7)
 * took 0.92-0.97x the time inside EfficientNet-Lite0 on the AVX-512 Xeon.
 * Wider maps keep the L1 passes: 144 -> 24 on 432-column blocks of a 56x56
 * map in one pass took 1.14x. */
#define SMALL_MAP_COLUMNS 256
#define SMALL_MAP_L2_B_BYTES 786432

/* Steps of k per pass, balanced so the last pass is not a sliver. */
static int k_chunk_for(int k, int columns, int bytes)
{
    int limit = bytes / (int)sizeof(float) / columns;
    int passes;
    if (limit < 16)
        limit = 16;
    passes = (k + limit - 1) / limit;
    return (k + passes - 1) / passes;
}

static int k_chunk(int k, int nr)
{
    return k_chunk_for(k, nr, B_SLICE_BYTES);
}

/* Where panel j0's B starts and how far apart its k steps lie: packed
 * panels are k x width blocks, B read in place is its own rows; or B's rows
 * are a table of pointers (rows != NULL), each offset by col. */
typedef struct {
    const float *b;
    ptrdiff_t ldb; /* 0: packed */
    const float *const *rows;
    ptrdiff_t col;
} b_operand;

static const float *panel_start(const b_operand *b, int j0, int k, int width, ptrdiff_t *step)
{
    if (b->ldb == 0) {
        *step = width;
        return b->b + (size_t)j0 * k;
    }
    *step = b->ldb;
    return b->b + j0;
}

/* A read in place (lda: its row stride), or packed by ei_gemm_pack_a (lda
 * 0), in which case a B read in place may have any width: the columns past
 * the last whole vector go through the kernel's tail. */
typedef struct {
    const float *a;
    ptrdiff_t lda;
} a_operand;

/* Per chunk of k, each group of mr rows of A sweeps every panel of B: the
 * rows' chunk stays in L1 and C is written as mr streams. (Sweeping the
 * rows past each panel instead writes C as m streams at once, which cost up
 * to 1.3x on 1x1 layers with a small k and a large C.) */
static void gemm(const ei_gemm_kernel *kernel, int m, int n, int k, const a_operand *a,
                 const b_operand *b, float *c, ptrdiff_t ldc, const ei_epilogue *ep)
{
    const int mr = kernel->mr, nr = kernel->nr;
    const int packed_a = a->lda == 0;
    const int small_map_bytes = n <= SMALL_MAP_COLUMNS ? SMALL_MAP_L2_B_BYTES : SMALL_MAP_B_BYTES;
    const int kchunk = packed_a && k_chunk_for(k, n, small_map_bytes) > k_chunk(k, nr)
                           ? k_chunk_for(k, n, small_map_bytes)
                           : k_chunk(k, nr);
    const int tiled = packed_a ? n / kernel->vl * kernel->vl : n; /* the rest: the tail */
    /* up to four of the tail's columns go with the last tile, in its pass,
     * when that tile is the widest */
    const int fused = tiled == 0 || tiled == n || tiled % nr != 0 ? 0
                      : n - tiled < 4                            ? n - tiled
                                                                 : 4;
    int j0, i0, k0;
    ptrdiff_t step;
    const float *panel;
    ei_epilogue rows = *ep;
    for (k0 = 0; k0 < k; k0 += kchunk) {
        const int kc = k - k0 < kchunk ? k - k0 : kchunk;
        const int first = k0 == 0, last = k0 + kc == k;
        for (i0 = 0; i0 < m; i0 += mr) {
            const int mm = m - i0 < mr ? m - i0 : mr;
            const float *a_rows = packed_a ? a->a + ((ptrdiff_t)(i0 / mr) * k + k0) * mr
                                           : a->a + (ptrdiff_t)i0 * a->lda + k0;
            rows.bias = ep->bias != NULL ? ep->bias + i0 : NULL;
            for (j0 = 0; j0 < tiled; j0 += nr) {
                const int nn = tiled - j0 < nr ? tiled - j0 : nr;
                const int width = ei_gemm_panel_width(kernel, nn);
                float *c_tile = c + (ptrdiff_t)i0 * ldc + j0;
                rows.residual = ep->residual != NULL ? ep->residual + (ptrdiff_t)i0 * ldc + j0
                                                     : NULL;
                if (b->rows != NULL) {
                    kernel->indirect[width / kernel->vl - 1](kc, a_rows, a->lda, b->rows + k0,
                                                             b->col + j0, c_tile, ldc, mm, nn,
                                                             &rows, !first, last);
                    continue;
                }
                panel = panel_start(b, j0, k, width, &step);
                if (packed_a && fused > 0 && j0 + nn == tiled)
                    kernel->packed_a_tail[fused - 1](kc, a_rows, 0, panel + k0 * step, step,
                                                     c_tile, ldc, mm, nn, &rows, !first, last);
                else
                    (packed_a ? kernel->packed_a : kernel->tile)[width / kernel->vl - 1](
                        kc, a_rows, a->lda, panel + k0 * step, step, c_tile, ldc, mm, nn, &rows,
                        !first, last);
            }
            if (tiled + fused < n) {
                const int rest = tiled + fused;
                rows.residual = ep->residual != NULL
                                    ? ep->residual + (ptrdiff_t)i0 * ldc + rest
                                    : NULL;
                kernel->tail(kc, a_rows, b->b + (ptrdiff_t)k0 * b->ldb + rest, b->ldb,
                             c + (ptrdiff_t)i0 * ldc + rest, ldc, mm, n - rest, &rows, !first,
                             last);
            }
        }
    }
}

void ei_gemm_packed(const ei_gemm_kernel *kernel, int m, int n, int k, const float *a,
                    ptrdiff_t lda, const float *packed_b, float *c, ptrdiff_t ldc,
                    const ei_epilogue *ep)
{
    const a_operand operand_a = {a, lda};
    const b_operand b = {packed_b, 0, NULL, 0};
    gemm(kernel, m, n, k, &operand_a, &b, c, ldc, ep);
}

void ei_gemm_in_place(const ei_gemm_kernel *kernel, int m, int n, int k, const float *a,
                      ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                      const ei_epilogue *ep)
{
    const a_operand operand_a = {a, lda};
    const b_operand operand = {b, ldb, NULL, 0};
    gemm(kernel, m, n, k, &operand_a, &operand, c, ldc, ep);
}

void ei_gemm_indirect(const ei_gemm_kernel *kernel, int m, int n, int k, const float *a,
                      ptrdiff_t lda, const float *const *b_rows, ptrdiff_t b_col, float *c,
                      ptrdiff_t ldc, const ei_epilogue *ep)
{
    const a_operand operand_a = {a, lda};
    const b_operand operand = {NULL, 0, b_rows, b_col};
    gemm(kernel, m, n, k, &operand_a, &operand, c, ldc, ep);
}

size_t ei_gemm_packed_a_size(const ei_gemm_kernel *kernel, int m, int k)
{
    return round_up((size_t)m, (size_t)kernel->mr) * (size_t)k + (size_t)kernel->vl;
}

void ei_gemm_pack_a(const ei_gemm_kernel *kernel, int m, int k, const float *a, ptrdiff_t lda,
                    float *packed)
{
    const int mr = kernel->mr;
    int i0, i, s;
    for (i0 = 0; i0 < m; i0 += mr)
        for (s = 0; s < k; s++)
            for (i = 0; i < mr; i++)
                *packed++ = i0 + i < m ? a[(ptrdiff_t)(i0 + i) * lda + s] : 0.0f;
    for (i = 0; i < kernel->vl; i++) /* the slack the tail reads */
        packed[i] = 0.0f;
}

void ei_gemm_packed_a_in_place(const ei_gemm_kernel *kernel, int m, int n, int k,
                               const float *packed_a, int first_row, const float *b,
                               ptrdiff_t ldb, float *c, ptrdiff_t ldc, const ei_epilogue *ep)
{
    const a_operand operand_a = {packed_a + (ptrdiff_t)(first_row / kernel->mr) * kernel->mr * k,
                                 0};
    const b_operand operand = {b, ldb, NULL, 0};
    gemm(kernel, m, n, k, &operand_a, &operand, c, ldc, ep);
}
