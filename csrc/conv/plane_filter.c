#include "plane_filter.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
#include <immintrin.h>

/* int32 lanes already in 0..255 to bytes with the packing instructions:
 * gcc turns a generic vector conversion into one extract per lane. */
__attribute__((target("sse2"))) static inline void store_bytes_sse2(uint8_t *dst, ei_i32x4 v)
{
    const __m128i words = _mm_packs_epi32((__m128i)v, (__m128i)v);
    const int four = _mm_cvtsi128_si32(_mm_packus_epi16(words, words));
    memcpy(dst, &four, 4);
}

__attribute__((target("avx2"))) static inline void store_bytes_avx2(uint8_t *dst, ei_i32x8 v)
{
    const __m256i all = (__m256i)v;
    const __m128i words =
        _mm_packs_epi32(_mm256_castsi256_si128(all), _mm256_extracti128_si256(all, 1));
    _mm_storel_epi64((__m128i *)dst, _mm_packus_epi16(words, words));
}

__attribute__((target("avx512f"))) static inline void store_bytes_avx512(uint8_t *dst,
                                                                         ei_i32x16 v)
{
    _mm_storeu_si128((__m128i *)dst, _mm512_cvtepi32_epi8((__m512i)v));
}
#endif

#define EI_INLINE static inline __attribute__((always_inline))

typedef void (*store_u8_fn)(const float *src, uint8_t *dst, int n);

EI_INLINE uint8_t saturate_u8(float v)
{
    v = v > 0.0f ? v : 0.0f; /* NaN becomes 0 */
    v = v < 255.0f ? v : 255.0f;
    v = (v + 8388608.0f) - 8388608.0f; /* round half to even, like cvRound */
    return (uint8_t)(int)v;
}


/* Plain C: the fallback every build has, and the reference for the others. */
#define EI_PLANE_FILTER_ISA (portable, float, int, 1, )
#include "plane_filter_isa.h"

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
#define EI_STORE_BYTES store_bytes_sse2
#define EI_PLANE_FILTER_ISA (sse2, ei_f32x4, ei_i32x4, 4, __attribute__((target("sse2"))))
#include "plane_filter_isa.h"

#define EI_STORE_BYTES store_bytes_avx2
#define EI_PLANE_FILTER_ISA (avx2, ei_f32x8, ei_i32x8, 8, __attribute__((target("avx2,fma"))))
#include "plane_filter_isa.h"

#define EI_STORE_BYTES store_bytes_avx512
#define EI_PLANE_FILTER_ISA (avx512, ei_f32x16, ei_i32x16, 16, __attribute__((target("avx512f"))))
#include "plane_filter_isa.h"
#endif

#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
#if defined(__aarch64__)
#define EI_PLANE_FILTER_ISA (neon, ei_f32x4, ei_i32x4, 4, )
#else
/* 32-bit ARM: intrinsics, which need no integer vector type */
#include <arm_neon.h>
#define EI_VEC_NEON_INTRINSICS 1
#define EI_PLANE_FILTER_ISA (neon, float32x4_t, int32x4_t, 4, )
#endif
#include "plane_filter_isa.h"
#endif

/* Where a coordinate outside [0, len) reads from, as OpenCV's
 * borderInterpolate; -1 for the constant border. */
static int border_index(int p, int len, ei_border border)
{
    if (p >= 0 && p < len)
        return p;
    if (border == EI_BORDER_REPLICATE)
        return p < 0 ? 0 : len - 1;
    if (border == EI_BORDER_REFLECT101) {
        if (len == 1)
            return 0;
        do {
            p = p < 0 ? -p : 2 * len - 2 - p;
        } while (p < 0 || p >= len);
        return p;
    }
    return -1;
}

EI_INLINE float pixel_at(const ei_plane *in, const void *row, int col)
{
    if (in->type == EI_PIXEL_U8)
        return (float)((const uint8_t *)row)[col * in->col_stride];
    return ((const float *)row)[col * in->col_stride];
}

/* Input row iy (a virtual coordinate, possibly outside the plane) padded to
 * `span` columns starting at column -pad_left, then split by column phase
 * into `phases` runs of phase_len floats. */
/* Kept apart with restrict so that the conversion loop vectorises. */
EI_INLINE void u8_to_float(const uint8_t *restrict src, float *restrict dst, int n)
{
    int i;
    for (i = 0; i < n; i++)
        dst[i] = (float)src[i];
}

EI_INLINE void split_phases(const float *restrict line, float *restrict slot, ptrdiff_t phase_len,
                            int phases, int span)
{
    int p, i, v;
    if (phases == 2) {
        const int half = span / 2;
        float *restrict even = slot, *restrict odd = slot + phase_len;
        for (i = 0; i < half; i++) {
            even[i] = line[2 * i];
            odd[i] = line[2 * i + 1];
        }
        if (span % 2)
            even[half] = line[span - 1];
        return;
    }
    for (p = 0; p < phases; p++) {
        float *d = slot + p * phase_len;
        for (i = 0, v = p; v < span; i++, v += phases)
            d[i] = line[v];
    }
}

EI_INLINE void fill_row(const ei_plane *in, const ei_plane_filter *f, int iy, int span,
                        float *line, float *slot, ptrdiff_t phase_len)
{
    const int phases = f->stride_w, w = in->width;
    const int src_row = border_index(iy, in->height, f->border);
    float *dst = phases == 1 ? slot : line;
    int v, lo, hi;
    if (src_row < 0) {
        for (v = 0; v < span; v++)
            dst[v] = f->border_value;
    } else {
        const char *row = (const char *)in->data +
                          (ptrdiff_t)src_row * in->row_stride *
                              (in->type == EI_PIXEL_U8 ? 1 : (ptrdiff_t)sizeof(float));
        /* virtual columns lo..hi-1 lie inside the plane */
        lo = f->pad_left < span ? f->pad_left : span;
        hi = f->pad_left + w < span ? f->pad_left + w : span;
        for (v = 0; v < lo; v++) {
            const int col = border_index(v - f->pad_left, w, f->border);
            dst[v] = col < 0 ? f->border_value : pixel_at(in, row, col);
        }
        if (in->type == EI_PIXEL_U8 && in->col_stride == 1) {
            if (hi > lo)
                u8_to_float((const uint8_t *)row + (lo - f->pad_left), dst + lo, hi - lo);
        } else if (in->type == EI_PIXEL_F32 && in->col_stride == 1) {
            if (hi > lo)
                memcpy(dst + lo, (const float *)row + (lo - f->pad_left),
                       sizeof(float) * (size_t)(hi - lo));
        } else {
            for (v = lo; v < hi; v++)
                dst[v] = pixel_at(in, row, v - f->pad_left);
        }
        for (v = hi > lo ? hi : lo; v < span; v++) {
            const int col = border_index(v - f->pad_left, w, f->border);
            dst[v] = col < 0 ? f->border_value : pixel_at(in, row, col);
        }
    }
    if (phases > 1)
        split_phases(line, slot, phase_len, phases, span);
}

EI_INLINE void store_u8(const float *src, uint8_t *dst, ptrdiff_t step, int n, store_u8_fn fast)
{
    int i;
    if (step == 1) {
        fast(src, dst, n);
        return;
    }
    for (i = 0; i < n; i++)
        dst[i * step] = saturate_u8(src[i]);
}

/* The whole row loop, instantiated once per vector unit so that padding,
 * conversion and stores vectorise as widely as the multiply-adds. */
EI_INLINE int rows_impl(const ei_plane *in, const ei_plane_filter *f, const ei_plane *out,
                        int row_begin, int row_end, ei_row_kernel compute,
                        store_u8_fn store_fast)
{
    const int kh = f->kernel_h, kw = f->kernel_w, sw = f->stride_w;
    const int wo = out->width;
    const int span = (wo - 1) * sw + (kw - 1) * f->dilation_w + 1;
    const ptrdiff_t phase_len = (span + sw - 1) / sw + EI_ROW_SLACK;
    const int window = (kh - 1) * f->dilation_h + 1;
    int slots = 1;
    const int direct = out->type == EI_PIXEL_F32 && out->col_stride == 1;
    float *ring, *line, *result, clamp[2];
    const float **rows;
    ptrdiff_t *tap;
    int *tag;
    int oy, ky, kx, s;

    if (kh < 1 || kw < 1 || sw < 1 || f->stride_h < 1 || f->dilation_h < 1 ||
        f->dilation_w < 1 || wo < 1 || in->width < 1 || in->height < 1)
        return -1;
    /* a power of two, so a row's slot is iy & (slots - 1), negative iy too */
    while (slots < window)
        slots *= 2;
    ring = (float *)calloc((size_t)slots * sw * phase_len + (size_t)span + (size_t)wo +
                               EI_ROW_SLACK,
                           sizeof(float));
    rows = (const float **)malloc(sizeof(float *) * (size_t)kh);
    tap = (ptrdiff_t *)malloc(sizeof(ptrdiff_t) * (size_t)kw);
    tag = (int *)malloc(sizeof(int) * (size_t)slots);
    if (ring == NULL || rows == NULL || tap == NULL || tag == NULL) {
        free(ring);
        free((void *)rows);
        free(tap);
        free(tag);
        return -2;
    }
    line = ring + (size_t)slots * sw * phase_len;
    result = line + span;
    for (s = 0; s < slots; s++)
        tag[s] = INT_MIN;
    for (kx = 0; kx < kw; kx++) {
        const int col = kx * f->dilation_w;
        tap[kx] = (ptrdiff_t)(col % sw) * phase_len + col / sw;
    }
    clamp[0] = f->lo;
    clamp[1] = f->hi;

    for (oy = row_begin; oy < row_end; oy++) {
        float *dst;
        for (ky = 0; ky < kh; ky++) {
            const int iy = oy * f->stride_h + ky * f->dilation_h - f->pad_top;
            const int slot = iy & (slots - 1);
            float *base = ring + (size_t)slot * sw * phase_len;
            if (tag[slot] != iy) {
                fill_row(in, f, iy, span, line, base, phase_len);
                tag[slot] = iy;
            }
            rows[ky] = base;
        }
        dst = direct ? (float *)out->data + (ptrdiff_t)oy * out->row_stride : result;
        compute(rows, tap, kh, kw, f->kernel, f->bias, f->clamp ? clamp : NULL, dst, wo);
        if (out->type == EI_PIXEL_U8) {
            store_u8(result, (uint8_t *)out->data + (ptrdiff_t)oy * out->row_stride,
                     out->col_stride, wo, store_fast);
        } else if (!direct) {
            float *o = (float *)out->data + (ptrdiff_t)oy * out->row_stride;
            int x;
            for (x = 0; x < wo; x++)
                o[x * out->col_stride] = result[x];
        }
    }
    free(ring);
    free((void *)rows);
    free(tap);
    free(tag);
    return 0;
}

static int rows_portable(const ei_plane *in, const ei_plane_filter *f, const ei_plane *out,
                         int row_begin, int row_end)
{
    return rows_impl(in, f, out, row_begin, row_end, row_portable, store_u8_portable);
}

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
__attribute__((target("sse2"))) static int rows_sse2(const ei_plane *in, const ei_plane_filter *f,
                                                     const ei_plane *out, int row_begin,
                                                     int row_end)
{
    return rows_impl(in, f, out, row_begin, row_end, row_sse2, store_u8_sse2);
}

__attribute__((target("avx2,fma"))) static int rows_avx2(const ei_plane *in,
                                                         const ei_plane_filter *f,
                                                         const ei_plane *out, int row_begin,
                                                         int row_end)
{
    return rows_impl(in, f, out, row_begin, row_end, row_avx2, store_u8_avx2);
}

__attribute__((target("avx512f"))) static int rows_avx512(const ei_plane *in,
                                                          const ei_plane_filter *f,
                                                          const ei_plane *out, int row_begin,
                                                          int row_end)
{
    return rows_impl(in, f, out, row_begin, row_end, row_avx512, store_u8_avx512);
}
#endif

#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
static int rows_neon(const ei_plane *in, const ei_plane_filter *f, const ei_plane *out,
                     int row_begin, int row_end)
{
    return rows_impl(in, f, out, row_begin, row_end, row_neon, store_u8_neon);
}
#endif

int ei_plane_filter_rows(const ei_plane *in, const ei_plane_filter *f, const ei_plane *out,
                         int row_begin, int row_end, ei_simd_level level)
{
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_AVX512)
        return rows_avx512(in, f, out, row_begin, row_end);
    if (level == EI_SIMD_AVX2)
        return rows_avx2(in, f, out, row_begin, row_end);
    if (level == EI_SIMD_SSE2)
        return rows_sse2(in, f, out, row_begin, row_end);
#endif
#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_NEON)
        return rows_neon(in, f, out, row_begin, row_end);
#endif
    (void)level;
    return rows_portable(in, f, out, row_begin, row_end);
}

ei_row_kernel ei_plane_row_kernel(ei_simd_level level)
{
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_AVX512)
        return row_avx512;
    if (level == EI_SIMD_AVX2)
        return row_avx2;
    if (level == EI_SIMD_SSE2)
        return row_sse2;
#endif
#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_NEON)
        return row_neon;
#endif
    (void)level;
    return row_portable;
}
