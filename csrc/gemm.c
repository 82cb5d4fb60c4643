#include "gemm.h"

#include <string.h>

#include "vec.h"

/* Plain C: the fallback every build has, and the reference for the others. */
#define VEC float
#define VECI int
#define VL 1
#define MR 4
#define NRV 4
#define TILE_FN tile_portable
#define TILE_ATTR
#include "gemm_tile.h"
#undef VEC
#undef VECI
#undef VL
#undef MR
#undef NRV
#undef TILE_FN
#undef TILE_ATTR

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
/* SSE2 has no FMA and 16 registers: 4 x 8 leaves room for the products. */
#define VEC ei_f32x4
#define VECI ei_i32x4
#define VL 4
#define MR 4
#define NRV 2
#define TILE_FN tile_sse2
#define TILE_ATTR __attribute__((target("sse2")))
#include "gemm_tile.h"
#undef VEC
#undef VECI
#undef VL
#undef MR
#undef NRV
#undef TILE_FN
#undef TILE_ATTR

/* AVX2: 6 x 16 is 12 accumulators + 2 of B + 1 broadcast = 15 of 16 registers. */
#define VEC ei_f32x8
#define VECI ei_i32x8
#define VL 8
#define MR 6
#define NRV 2
#define TILE_FN tile_avx2
#define TILE_ATTR __attribute__((target("avx2,fma")))
#include "gemm_tile.h"
#undef VEC
#undef VECI
#undef VL
#undef MR
#undef NRV
#undef TILE_FN
#undef TILE_ATTR

/* AVX-512: 8 x 48 is 24 accumulators + 3 of B + 1 broadcast of 32 registers;
 * 8 rows divide the channel counts of real networks, so no row is wasted. */
#define VEC ei_f32x16
#define VECI ei_i32x16
#define VL 16
#define MR 8
#define NRV 3
#define TILE_FN tile_avx512
#define TILE_ATTR __attribute__((target("avx512f")))
#include "gemm_tile.h"
#undef VEC
#undef VECI
#undef VL
#undef MR
#undef NRV
#undef TILE_FN
#undef TILE_ATTR
#endif

#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
#if defined(__aarch64__)
/* 32 registers: 8 x 8 is 16 accumulators + 2 of B + up to 8 of A (the
 * compiler multiplies by lanes of A values loaded in pairs); 8 x 12 spills */
#define VEC ei_f32x4
#define VECI ei_i32x4
#define MR 8
#define NRV 2
#else
/* 32-bit ARM: intrinsics, and 16 quad registers: 4 x 8 */
#include <arm_neon.h>
#define EI_VEC_NEON_INTRINSICS 1
#define VEC float32x4_t
#define MR 4
#define NRV 2
#endif
#define VL 4
#define TILE_FN tile_neon
#define TILE_ATTR
#include "gemm_tile.h"
#undef EI_VEC_NEON_INTRINSICS
#undef VEC
#undef VECI
#undef VL
#undef MR
#undef NRV
#undef TILE_FN
#undef TILE_ATTR
#endif

ei_gemm_kernel ei_gemm_kernel_for(ei_simd_level level)
{
    ei_gemm_kernel k;
    (void)level; /* unused when only the portable kernel is built */
    k.mr = 4;
    k.nr = 4;
    k.tile = tile_portable;
    k.level = EI_SIMD_PORTABLE;
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_SSE2) {
        k.mr = 4;
        k.nr = 8;
        k.tile = tile_sse2;
        k.level = level;
    } else if (level == EI_SIMD_AVX2) {
        k.mr = 6;
        k.nr = 16;
        k.tile = tile_avx2;
        k.level = level;
    } else if (level == EI_SIMD_AVX512) {
        k.mr = 8;
        k.nr = 48;
        k.tile = tile_avx512;
        k.level = level;
    }
#endif
#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_NEON) {
#if defined(__aarch64__)
        k.mr = 8;
        k.nr = 8;
#else
        k.mr = 4;
        k.nr = 8;
#endif
        k.tile = tile_neon;
        k.level = level;
    }
#endif
    return k;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

size_t ei_gemm_packed_b_size(const ei_gemm_kernel *kernel, int k, int n)
{
    return round_up((size_t)n, (size_t)kernel->nr) * (size_t)k;
}

/* Bytes of B one pass keeps in L1 (half of a 32-48 KB L1 data cache): a
 * kc x nr slice of B stays there while every panel of A streams past it. */
#define B_SLICE_BYTES 24576

/* Steps of k per pass, balanced so the last pass is not a sliver. */
static int k_chunk(int k, int nr)
{
    int limit = B_SLICE_BYTES / (int)sizeof(float) / nr;
    int passes;
    if (limit < 16)
        limit = 16;
    passes = (k + limit - 1) / limit;
    return (k + passes - 1) / passes;
}

void ei_gemm_packed(const ei_gemm_kernel *kernel, int m, int n, int k, const float *a,
                    ptrdiff_t lda, const float *packed_b, float *c, ptrdiff_t ldc,
                    const ei_epilogue *ep)
{
    const int mr = kernel->mr, nr = kernel->nr;
    const int kchunk = k_chunk(k, nr);
    int j0, i0, k0;
    ei_epilogue rows = *ep;
    for (j0 = 0; j0 < n; j0 += nr) {
        const float *b_panel = packed_b + (size_t)j0 * k;
        const int nn = n - j0 < nr ? n - j0 : nr;
        for (k0 = 0; k0 < k; k0 += kchunk) {
            const int kc = k - k0 < kchunk ? k - k0 : kchunk;
            const int last = k0 + kc == k;
            for (i0 = 0; i0 < m; i0 += mr) {
                const int mm = m - i0 < mr ? m - i0 : mr;
                rows.bias = ep->bias != NULL ? ep->bias + i0 : NULL;
                kernel->tile(kc, a + (ptrdiff_t)i0 * lda + k0, lda, b_panel + (size_t)k0 * nr,
                             c + (ptrdiff_t)i0 * ldc + j0, ldc, mm, nn, &rows, k0 > 0, last);
            }
        }
    }
}
