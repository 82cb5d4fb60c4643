#include "depthwise_blocked.h"

#include <string.h>

#include "vec.h"

/* output pixels of a row kept in registers: 8 accumulators cover the 4-cycle
 * latency of two fused multiply-adds per cycle, and with a weight and an
 * input vector fit the 16 registers of SSE2, AVX2 and 32-bit NEON */
#define EI_BLOCK_PIXELS 8

#define EI_INLINE static inline __attribute__((always_inline))

/* where one thread's scratch holds each part, in floats, 16-float aligned */
typedef struct {
    float *input;   /* [padded_height][padded_width][lanes], border zeros */
    float *weights; /* [kh * kw][lanes] */
    float *bias;    /* [lanes] */
    float *output;  /* [out_height * out_width][lanes] */
} blocked_scratch;

static size_t round16(size_t floats)
{
    return (floats + 15) / 16 * 16;
}

static blocked_scratch scratch_layout(const ei_depthwise_blocked *plan, float *scratch)
{
    const ei_conv2d_params *p = plan->conv;
    const size_t lanes = (size_t)plan->lanes;
    blocked_scratch s;
    s.input = scratch;
    s.weights = s.input + round16((size_t)plan->padded_height * plan->padded_width * lanes);
    s.bias = s.weights + round16((size_t)p->kernel_h * p->kernel_w * lanes);
    s.output = s.bias + round16(lanes);
    return s;
}

void ei_depthwise_blocked_bind(const ei_depthwise_blocked *plan, float *scratch)
{
    memset(scratch, 0,
           sizeof(float) * (size_t)plan->padded_height * plan->padded_width * plan->lanes);
}

#if EI_HAVE_VECTOR_EXTENSIONS
#if defined(__clang__) || __GNUC__ >= 12
#define SHUFFLE4(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
#define SHUFFLE4(a, b, i, j, k, l) __builtin_shuffle(a, b, (ei_i32x4){i, j, k, l})
#endif

/* r0..r3 (four lanes, four pixels each) become four pixels of four lanes */
EI_INLINE void transpose4(const float *r0, const float *r1, const float *r2, const float *r3,
                          float *o0, float *o1, float *o2, float *o3)
{
    const ei_f32x4 a = *(const ei_f32x4 *)r0, b = *(const ei_f32x4 *)r1;
    const ei_f32x4 c = *(const ei_f32x4 *)r2, d = *(const ei_f32x4 *)r3;
    const ei_f32x4 ab_low = SHUFFLE4(a, b, 0, 4, 1, 5), ab_high = SHUFFLE4(a, b, 2, 6, 3, 7);
    const ei_f32x4 cd_low = SHUFFLE4(c, d, 0, 4, 1, 5), cd_high = SHUFFLE4(c, d, 2, 6, 3, 7);
    *(ei_f32x4 *)o0 = SHUFFLE4(ab_low, cd_low, 0, 1, 4, 5);
    *(ei_f32x4 *)o1 = SHUFFLE4(ab_low, cd_low, 2, 3, 6, 7);
    *(ei_f32x4 *)o2 = SHUFFLE4(ab_high, cd_high, 0, 1, 4, 5);
    *(ei_f32x4 *)o3 = SHUFFLE4(ab_high, cd_high, 2, 3, 6, 7);
}
#define HAVE_TRANSPOSE4 1
#else
#define HAVE_TRANSPOSE4 0
#endif

/* dst[i * lanes + l] = src[l][i] for i < n: n pixels of `lanes` planes
 * into one channels-last run */
EI_INLINE void planes_to_lanes(const float *const *src, size_t offset, int n, int lanes,
                               float *restrict dst)
{
    int i = 0, l;
#if HAVE_TRANSPOSE4
    if (lanes % 4 == 0) {
        for (; i + 4 <= n; i += 4) {
            float *d = dst + (size_t)i * lanes;
            for (l = 0; l < lanes; l += 4)
                transpose4(src[l] + offset + i, src[l + 1] + offset + i, src[l + 2] + offset + i,
                           src[l + 3] + offset + i, d + l, d + lanes + l, d + 2 * lanes + l,
                           d + 3 * lanes + l);
        }
    }
#endif
    for (; i < n; i++)
        for (l = 0; l < lanes; l++)
            dst[(size_t)i * lanes + l] = src[l][offset + i];
}

/* dst[l][i] = src[i * lanes + l] for i < n and the first `valid` lanes */
EI_INLINE void lanes_to_planes(const float *restrict src, int lanes, size_t n,
                               float *const *dst, int valid)
{
    size_t i = 0;
    int l = 0;
#if HAVE_TRANSPOSE4
    if (lanes % 4 == 0) {
        for (; l + 4 <= valid; l += 4) {
            for (i = 0; i + 4 <= n; i += 4) {
                const float *s = src + i * lanes + l;
                transpose4(s, s + lanes, s + 2 * lanes, s + 3 * lanes, dst[l] + i,
                           dst[l + 1] + i, dst[l + 2] + i, dst[l + 3] + i);
            }
            for (; i < n; i++) {
                dst[l][i] = src[i * lanes + l];
                dst[l + 1][i] = src[i * lanes + l + 1];
                dst[l + 2][i] = src[i * lanes + l + 2];
                dst[l + 3][i] = src[i * lanes + l + 3];
            }
        }
    }
#endif
    for (; l < valid; l++)
        for (i = 0; i < n; i++)
            dst[l][i] = src[i * lanes + l];
}

/* The input planes of a block into the interior of the padded block; the
 * border keeps the zeros bind left (every block of a call has the same
 * geometry). Rows and columns no tap reads are left out. When every column
 * is read, the pixels are taken four at a time across row ends, so a 7-wide
 * row leaves no scalar tail. */
EI_INLINE void fill_block(const ei_depthwise_blocked *plan, const float *const *src, int lanes,
                          float *block)
{
    const ei_conv2d_params *p = plan->conv;
    const int w = p->in_width, wp = plan->padded_width;
    const int cols = wp - p->pad_left < w ? wp - p->pad_left : w;
    const int rows =
        plan->padded_height - p->pad_top < p->in_height ? plan->padded_height - p->pad_top
                                                          : p->in_height;
    float *first = block + ((size_t)p->pad_top * wp + p->pad_left) * lanes;
    int iy;
    if (cols <= 0 || rows <= 0)
        return;
#if HAVE_TRANSPOSE4
    if (cols == w && lanes % 4 == 0) {
        const size_t n = (size_t)rows * w;
        const size_t gap = (size_t)(wp - w) * lanes; /* from a row's end to the next's start */
        float *d = first, *at[4];
        size_t i;
        int ix = 0, k, l;
        for (i = 0; i + 4 <= n; i += 4) {
            for (k = 0; k < 4; k++) {
                at[k] = d;
                d += lanes;
                if (++ix == w) {
                    ix = 0;
                    d += gap;
                }
            }
            for (l = 0; l < lanes; l += 4)
                transpose4(src[l] + i, src[l + 1] + i, src[l + 2] + i, src[l + 3] + i,
                           at[0] + l, at[1] + l, at[2] + l, at[3] + l);
        }
        for (; i < n; i++) {
            for (l = 0; l < lanes; l++)
                d[l] = src[l][i];
            d += lanes;
            if (++ix == w) {
                ix = 0;
                d += gap;
            }
        }
        return;
    }
#endif
    for (iy = 0; iy < rows; iy++)
        planes_to_lanes(src, (size_t)iy * w, cols, lanes, first + (size_t)iy * wp * lanes);
}

/* Plain C: one channel per block, the reference for the others. */
#define VEC float
#define VECI int
#define VL 1
#define BLOCK_ATTR
#define BLOCK_FN block_portable
#include "depthwise_blocked_lanes.h"

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
#define VEC ei_f32x4
#define VECI ei_i32x4
#define VL 4
#define BLOCK_ATTR __attribute__((target("sse2")))
#define BLOCK_FN block_sse2
#include "depthwise_blocked_lanes.h"

#define VEC ei_f32x8
#define VECI ei_i32x8
#define VL 8
#define BLOCK_ATTR __attribute__((target("avx2,fma")))
#define BLOCK_FN block_avx2
#include "depthwise_blocked_lanes.h"

#define VEC ei_f32x16
#define VECI ei_i32x16
#define VL 16
#define BLOCK_ATTR __attribute__((target("avx512f")))
#define BLOCK_FN block_avx512
#include "depthwise_blocked_lanes.h"
#endif

#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
#if defined(__aarch64__)
#define VEC ei_f32x4
#define VECI ei_i32x4
#else
/* 32-bit ARM: intrinsics (vec_ops.h) */
#include <arm_neon.h>
#define EI_VEC_NEON_INTRINSICS 1
#define VEC float32x4_t
#define VECI int32x4_t
#endif
#define VL 4
#define BLOCK_ATTR
#define BLOCK_FN block_neon
#include "depthwise_blocked_lanes.h"
#endif

void ei_depthwise_blocked_plan(const ei_conv2d_params *p, int out_height, int out_width,
                               ei_simd_level level, ei_depthwise_blocked *plan)
{
    plan->conv = p;
    plan->out_height = out_height;
    plan->out_width = out_width;
    plan->padded_height = (out_height - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
    plan->padded_width = (out_width - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
    plan->lanes = 1;
    plan->block = block_portable;
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_AVX512) {
        plan->lanes = 16;
        plan->block = block_avx512;
    } else if (level == EI_SIMD_AVX2) {
        plan->lanes = 8;
        plan->block = block_avx2;
    } else if (level == EI_SIMD_SSE2) {
        plan->lanes = 4;
        plan->block = block_sse2;
    }
#endif
#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_NEON) {
        plan->lanes = 4;
        plan->block = block_neon;
    }
#endif
    (void)level;
    plan->scratch_bytes =
        sizeof(float) *
        (round16((size_t)plan->padded_height * plan->padded_width * plan->lanes) +
         round16((size_t)p->kernel_h * p->kernel_w * plan->lanes) + round16(plan->lanes) +
         round16((size_t)out_height * out_width * plan->lanes));
}
