#include "depthwise_blocked.h"

#include <string.h>

#include "vec.h"

/* output pixels of a row kept in registers: 8 accumulators cover the 4-cycle
 * latency of two fused multiply-adds per cycle, and with a weight and an
 * input vector fit the 16 registers of SSE2, AVX2 and 32-bit NEON */
#define EI_BLOCK_PIXELS 8

#define EI_INLINE static inline __attribute__((always_inline))

/* the widest block: AVX-512's sixteen lanes */
#define EI_BLOCK_MAX_LANES 16

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
    s.weights = s.input + round16((size_t)plan->band_height * plan->padded_width * lanes);
    s.bias = s.weights + round16((size_t)p->kernel_h * p->kernel_w * lanes);
    s.output = s.bias + round16(lanes);
    return s;
}

void ei_depthwise_blocked_bind(const ei_depthwise_blocked *plan, float *scratch)
{
    memset(scratch, 0,
           sizeof(float) * (size_t)plan->band_height * plan->padded_width * plan->lanes);
}

#if EI_HAVE_VECTOR_EXTENSIONS
#if defined(__clang__) || __GNUC__ >= 12
#define SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#define SHUFFLE4(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
#define SHUFFLE4(a, b, i, j, k, l) __builtin_shuffle(a, b, (ei_i32x4){i, j, k, l})
#endif

/* Square tiles transposed in registers: rows src[0..n) of n floats become
 * columns dst[0..n). Four lanes with 128-bit shuffles, which every vector
 * unit has; eight and sixteen (x86) in three and four rounds of shuffles of
 * the full width, half the shuffles per float of four-lane tiles. */
EI_INLINE void transpose4(const float *const *src, float *const *dst)
{
    const ei_f32x4 a = *(const ei_f32x4 *)src[0], b = *(const ei_f32x4 *)src[1];
    const ei_f32x4 c = *(const ei_f32x4 *)src[2], d = *(const ei_f32x4 *)src[3];
    const ei_f32x4 ab_low = SHUFFLE4(a, b, 0, 4, 1, 5), ab_high = SHUFFLE4(a, b, 2, 6, 3, 7);
    const ei_f32x4 cd_low = SHUFFLE4(c, d, 0, 4, 1, 5), cd_high = SHUFFLE4(c, d, 2, 6, 3, 7);
    *(ei_f32x4 *)dst[0] = SHUFFLE4(ab_low, cd_low, 0, 1, 4, 5);
    *(ei_f32x4 *)dst[1] = SHUFFLE4(ab_low, cd_low, 2, 3, 6, 7);
    *(ei_f32x4 *)dst[2] = SHUFFLE4(ab_high, cd_high, 0, 1, 4, 5);
    *(ei_f32x4 *)dst[3] = SHUFFLE4(ab_high, cd_high, 2, 3, 6, 7);
}

#if EI_HAVE_X86_TARGETS && defined(SHUFFLE)
/* AVX2's in-lane unpack, shuffle and 128-bit permute, one instruction each */
EI_INLINE void transpose8(const float *const *src, float *const *dst)
{
    ei_f32x8 r[8], t[8], u[8];
    int k;
    for (k = 0; k < 8; k++)
        r[k] = *(const ei_f32x8 *)src[k];
    for (k = 0; k < 8; k += 2) {
        t[k] = SHUFFLE(r[k], r[k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[k + 1] = SHUFFLE(r[k], r[k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (k = 0; k < 8; k += 4) {
        u[k] = SHUFFLE(t[k], t[k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[k + 1] = SHUFFLE(t[k], t[k + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[k + 2] = SHUFFLE(t[k + 1], t[k + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[k + 3] = SHUFFLE(t[k + 1], t[k + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (k = 0; k < 4; k++) {
        *(ei_f32x8 *)dst[k] = SHUFFLE(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        *(ei_f32x8 *)dst[k + 4] = SHUFFLE(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/* AVX-512's two-source permute: four rounds of interleaving rows k and k + 8 */
EI_INLINE void transpose16(const float *const *src, float *const *dst)
{
    ei_f32x16 a[16], b[16];
    int k, round;
    for (k = 0; k < 16; k++)
        a[k] = *(const ei_f32x16 *)src[k];
    for (round = 0; round < 4; round++) {
        ei_f32x16 *from = round % 2 ? b : a, *to = round % 2 ? a : b;
        for (k = 0; k < 8; k++) {
            to[2 * k] = SHUFFLE(from[k], from[k + 8], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6,
                                22, 7, 23);
            to[2 * k + 1] = SHUFFLE(from[k], from[k + 8], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28,
                                    13, 29, 14, 30, 15, 31);
        }
    }
    for (k = 0; k < 16; k++)
        *(ei_f32x16 *)dst[k] = a[k];
}
#define HAVE_WIDE_TRANSPOSES 1
#endif
#define HAVE_TRANSPOSE4 1
#else
#define HAVE_TRANSPOSE4 0
#endif

#ifndef HAVE_WIDE_TRANSPOSES
#define HAVE_WIDE_TRANSPOSES 0
#endif

/* The side of the square tiles `lanes` channels are transposed in: the
 * lanes themselves where a transpose of that size exists, else 0. */
EI_INLINE int square_tile(int lanes)
{
    if (HAVE_TRANSPOSE4 && lanes == 4)
        return 4;
    if (HAVE_WIDE_TRANSPOSES && (lanes == 8 || lanes == 16))
        return lanes;
    return 0;
}

EI_INLINE void transpose_square(const float *const *src, float *const *dst, int lanes)
{
    (void)lanes; /* only the wide transposes need it */
#if HAVE_WIDE_TRANSPOSES
    if (lanes == 16) {
        transpose16(src, dst);
        return;
    }
    if (lanes == 8) {
        transpose8(src, dst);
        return;
    }
#endif
#if HAVE_TRANSPOSE4
    transpose4(src, dst);
#else
    (void)src;
    (void)dst;
#endif
}

/* n pixels of `lanes` planes (pixel i of lane l at src[l][i]) into
 * channels-last runs: pixel i takes the next `lanes` floats of dst, and after
 * every `width` pixels dst skips `gap` floats (the border between two rows of
 * a padded block). Tiles of `lanes` pixels, then of four, then one. */
EI_INLINE void planes_to_lanes(const float *const *src, size_t n, int width, size_t gap,
                               int lanes, float *dst)
{
    const int tile = square_tile(lanes);
    const float *from[EI_BLOCK_MAX_LANES];
    float *at[EI_BLOCK_MAX_LANES];
    size_t i = 0;
    int ix = 0, k, l;
#define NEXT_PIXEL()                                                                              \
    do {                                                                                          \
        dst += lanes;                                                                             \
        if (++ix == width) {                                                                      \
            ix = 0;                                                                               \
            dst += gap;                                                                           \
        }                                                                                         \
    } while (0)
    if (tile > 0) {
        for (; i + tile <= n; i += tile) {
            for (k = 0; k < tile; k++) {
                at[k] = dst;
                from[k] = src[k] + i;
                NEXT_PIXEL();
            }
            transpose_square(from, at, lanes);
        }
    }
#if HAVE_TRANSPOSE4
    if (lanes % 4 == 0) {
        for (; i + 4 <= n; i += 4) {
            for (k = 0; k < 4; k++) {
                at[k] = dst;
                NEXT_PIXEL();
            }
            for (l = 0; l < lanes; l += 4) {
                const float *rows[4] = {src[l] + i, src[l + 1] + i, src[l + 2] + i,
                                        src[l + 3] + i};
                float *cols[4] = {at[0] + l, at[1] + l, at[2] + l, at[3] + l};
                transpose4(rows, cols);
            }
        }
    }
#endif
    for (; i < n; i++) {
        for (l = 0; l < lanes; l++)
            dst[l] = src[l][i];
        NEXT_PIXEL();
    }
#undef NEXT_PIXEL
}

/* dst[l][i] = src[i * lanes + l] for i < n and the first `valid` lanes */
EI_INLINE void lanes_to_planes(const float *restrict src, int lanes, size_t n,
                               float *const *dst, int valid)
{
    const int tile = square_tile(lanes);
    const float *from[EI_BLOCK_MAX_LANES];
    float *to[EI_BLOCK_MAX_LANES];
    size_t i = 0, first;
    int l = 0, k;
    if (tile > 0 && valid == lanes) {
        for (; i + tile <= n; i += tile) {
            for (k = 0; k < tile; k++) {
                from[k] = src + (i + k) * lanes;
                to[k] = dst[k] + i;
            }
            transpose_square(from, to, lanes);
        }
    }
    first = i;
#if HAVE_TRANSPOSE4
    if (lanes % 4 == 0) {
        for (; l + 4 <= valid; l += 4) {
            for (i = first; i + 4 <= n; i += 4) {
                const float *s = src + i * lanes + l;
                const float *rows[4] = {s, s + lanes, s + 2 * lanes, s + 3 * lanes};
                float *cols[4] = {dst[l] + i, dst[l + 1] + i, dst[l + 2] + i, dst[l + 3] + i};
                transpose4(rows, cols);
            }
            for (; i < n; i++)
                for (k = 0; k < 4; k++)
                    dst[l + k][i] = src[i * lanes + l + k];
        }
    }
#endif
    for (; l < valid; l++)
        for (i = first; i < n; i++)
            dst[l][i] = src[i * lanes + l];
}

/* The input planes of a block into the interior of the padded block; the
 * border keeps the zeros bind left (every block of a call has the same
 * geometry). Rows and columns no tap reads are left out. When every column
 * is read, the tiles run across row ends, so a 7-wide row leaves no tail. */
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
    const float *row[EI_BLOCK_MAX_LANES];
    int iy, l;
    if (cols <= 0 || rows <= 0)
        return;
    if (cols == w) {
        planes_to_lanes(src, (size_t)rows * w, w, (size_t)(wp - w) * lanes, lanes, first);
        return;
    }
    for (iy = 0; iy < rows; iy++) {
        for (l = 0; l < lanes; l++)
            row[l] = src[l] + (size_t)iy * w;
        planes_to_lanes(row, (size_t)cols, cols, 0, lanes, first + (size_t)iy * wp * lanes);
    }
}

/* Padded input rows a band of `rows` output rows reads. */
static int band_height_for(const ei_conv2d_params *p, int rows)
{
    return (rows - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
}

/* The padded input rows [py0, py0 + count) of a band into block, row by row:
 * rows of the input transposed into their columns, padding rows zeroed
 * (an earlier band may have left input there); the border columns keep the
 * zeros bind left. */
EI_INLINE void fill_band(const ei_depthwise_blocked *plan, const float *const *src, int lanes,
                         int py0, int count, float *block)
{
    const ei_conv2d_params *p = plan->conv;
    const int w = p->in_width, wp = plan->padded_width;
    const int cols = wp - p->pad_left < w ? wp - p->pad_left : w;
    const float *row[EI_BLOCK_MAX_LANES];
    int r, l;
    for (r = 0; r < count; r++) {
        const int iy = py0 + r - p->pad_top;
        float *first = block + ((size_t)r * wp + p->pad_left) * lanes;
        if (iy < 0 || iy >= p->in_height) {
            memset(block + (size_t)r * wp * lanes, 0, sizeof(float) * (size_t)wp * lanes);
            continue;
        }
        if (cols <= 0)
            continue;
        for (l = 0; l < lanes; l++)
            row[l] = src[l] + (size_t)iy * w;
        planes_to_lanes(row, (size_t)cols, cols, 0, lanes, first);
    }
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

/* A padded block past this many bytes is filled and read in bands (see
 * ei_depthwise_blocked_plan) of at most BAND_BYTES of padded input rows.
 * Measured on one AVX-512 core: the 3x3/2 layers on 112x112 maps (a 113x113
 * block of 16 lanes, 817 KB) took 0.68-0.70x the time inside
 * EfficientNet-Lite0 in bands of 32 KB, 0.8x alone (its input then in
 * cache), from 1.33x onnxruntime's time to 0.93x. Smaller blocks stay whole:
 * they fit in L2 beside the input, and in bands the rows two bands share
 * are filled twice (5x5/2 on 56x56, a 222 KB block: 1.05x in bands). */
#define BANDED_BLOCK_BYTES 524288
#define BAND_BYTES 32768

static int forced_band_rows = 0;

/* The padded rows a band reads and one thread's scratch, for plan->band_rows. */
static void size_scratch(ei_depthwise_blocked *plan)
{
    const ei_conv2d_params *p = plan->conv;
    plan->band_height = plan->band_rows == plan->out_height
                            ? plan->padded_height
                            : band_height_for(p, plan->band_rows);
    plan->scratch_bytes =
        sizeof(float) *
        (round16((size_t)plan->band_height * plan->padded_width * plan->lanes) +
         round16((size_t)p->kernel_h * p->kernel_w * plan->lanes) + round16(plan->lanes) +
         round16((size_t)plan->band_rows * plan->out_width * plan->lanes));
}

void ei_depthwise_blocked_force_band_rows(int rows)
{
    forced_band_rows = rows > 0 ? rows : 0;
}

void ei_depthwise_blocked_plan(const ei_conv2d_params *p, int out_height, int out_width,
                               ei_simd_level level, ei_depthwise_blocked *plan)
{
    size_t row_bytes;
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
    /* the whole map, or the most output rows whose padded input rows stay
     * within a band's bytes, at least one */
    row_bytes = sizeof(float) * (size_t)plan->padded_width * plan->lanes;
    plan->band_rows = out_height;
    if ((size_t)plan->padded_height * row_bytes > BANDED_BLOCK_BYTES)
        while (plan->band_rows > 1 &&
               (size_t)band_height_for(p, plan->band_rows) * row_bytes > BAND_BYTES)
            plan->band_rows--;
    if (forced_band_rows > 0)
        plan->band_rows = forced_band_rows < out_height ? forced_band_rows : out_height;
    size_scratch(plan);
}

void ei_depthwise_blocked_split_rows(ei_depthwise_blocked *plan, int parts)
{
    const int rows = parts > 1 ? (plan->out_height + parts - 1) / parts : plan->out_height;
    if (rows < plan->band_rows) {
        plan->band_rows = rows;
        size_scratch(plan);
    }
}
