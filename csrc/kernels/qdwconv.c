#include "qdwconv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "threads.h"

#if defined(__ARM_NEON) && !defined(EI_NO_SIMD)
#include <arm_neon.h>
#define QDW_NEON 1
#endif
#if EI_HAVE_X86_TARGETS && !defined(EI_NO_SIMD)
#include <immintrin.h>
#define QDW_X86 1
#endif

/* Output pixels of a row done at a time by the vector paths; the scratch
 * rows are this much wider than the output so the last chunk may read past
 * it. */
#define CHUNK 16

/* One channel, ready for any path: its input less the zero point as int16,
 * padded, split by column phase so that a strided tap reads a contiguous
 * run: phase p, row r, column q holds the padded input at (r, q * stride + p).
 * (x - x_zero) * w fits in int16: |255 x -128| = 32640. */
typedef struct {
    const int16_t *planes;   /* stride phases x rows x width */
    const long *taps;        /* kh x kw: where tap (i, j) of output row 0 starts */
    long row_step;           /* stride x width: from one output row to the next */
    long phase_size;
    int width, stride, kh, kw, out_w;
    const int8_t *w;         /* kh x kw */
    int32_t bias;
    float multiplier, lo, hi; /* bounds less the output zero point */
    int y_zero;
} qdw_channel;

static void fill_planes(int16_t *planes, const qdw_channel *ch, int rows, const uint8_t *x,
                        int in_h, int in_w, int pad_top, int pad_left, int x_zero)
{
    int s = ch->stride, p, r, q;
    for (p = 0; p < s; p++) {
        /* the columns q of this phase that fall inside x: 0 <= q * s + p - pad_left < in_w */
        int first = pad_left > p ? (pad_left - p + s - 1) / s : 0;
        int end = (in_w - 1 + pad_left - p) / s + 1;
        if (in_w - 1 + pad_left - p < 0)
            end = 0;
        if (end > ch->width)
            end = ch->width;
        if (first > end)
            first = end;
        for (r = 0; r < rows; r++) {
            int16_t *dst = planes + p * ch->phase_size + (long)r * ch->width;
            int iy = r - pad_top;
            const uint8_t *src;
            if (iy < 0 || iy >= in_h) {
                memset(dst, 0, (size_t)ch->width * sizeof *dst);
                continue;
            }
            src = x + (long)iy * in_w + p - pad_left;
            for (q = 0; q < first; q++)
                dst[q] = 0;
            if (s == 1)
                for (q = first; q < end; q++)
                    dst[q] = (int16_t)(src[q] - x_zero);
            else
                for (q = first; q < end; q++)
                    dst[q] = (int16_t)(src[q * s] - x_zero);
            for (q = end; q < ch->width; q++)
                dst[q] = 0;
        }
    }
}

static uint8_t requantize(int32_t acc, const qdw_channel *ch)
{
    float v = (float)acc * ch->multiplier;
    /* the bounds are whole numbers: clamping before rounding agrees with after */
    v = v < ch->lo ? ch->lo : (v > ch->hi ? ch->hi : v);
    return (uint8_t)(lrintf(v) + ch->y_zero);   /* to nearest, ties to even */
}

/* The start of tap t = i * kw + j for output row oy: a contiguous run over ox. */
static const int16_t *tap(const qdw_channel *ch, int oy, int t)
{
    return ch->planes + oy * ch->row_step + ch->taps[t];
}

static void row_portable(const qdw_channel *ch, int oy, uint8_t *y)
{
    int32_t acc[CHUNK];
    int x0, ox, i, j;
    for (x0 = 0; x0 < ch->out_w; x0 += CHUNK) {
        int n = ch->out_w - x0 < CHUNK ? ch->out_w - x0 : CHUNK;
        for (ox = 0; ox < n; ox++)
            acc[ox] = ch->bias;
        for (i = 0; i < ch->kh; i++)
            for (j = 0; j < ch->kw; j++) {
                const int16_t *src = tap(ch, oy, i * ch->kw + j) + x0;
                int32_t wv = ch->w[i * ch->kw + j];
                for (ox = 0; ox < n; ox++)
                    acc[ox] += wv * src[ox];
            }
        for (ox = 0; ox < n; ox++)
            y[x0 + ox] = requantize(acc[ox], ch);
    }
}

#ifdef QDW_X86
/* 16 pixels per pass: the int16 products are exact (see qdw_channel) and
 * widened to int32 before they are summed. */
__attribute__((target("avx2,fma"))) static void row_avx2(const qdw_channel *ch, int oy,
                                                         uint8_t *y)
{
    const __m256 mul = _mm256_set1_ps(ch->multiplier), lo = _mm256_set1_ps(ch->lo),
                 hi = _mm256_set1_ps(ch->hi);
    const __m256i zero = _mm256_set1_epi32(ch->y_zero);
    int x0, i, j;
    for (x0 = 0; x0 < ch->out_w; x0 += CHUNK) {
        int n = ch->out_w - x0 < CHUNK ? ch->out_w - x0 : CHUNK;
        __m256i a = _mm256_set1_epi32(ch->bias), b = a;
        __m256 fa, fb;
        __m256i ia, ib, packed;
        __m128i bytes;
        for (i = 0; i < ch->kh; i++)
            for (j = 0; j < ch->kw; j++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)(tap(ch, oy, i * ch->kw + j) + x0));
                __m256i prod = _mm256_mullo_epi16(v, _mm256_set1_epi16(ch->w[i * ch->kw + j]));
                a = _mm256_add_epi32(a, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(prod)));
                b = _mm256_add_epi32(b, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(prod, 1)));
            }
        fa = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a), mul), lo), hi);
        fb = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(b), mul), lo), hi);
        ia = _mm256_add_epi32(_mm256_cvtps_epi32(fa), zero);   /* ties to even (MXCSR) */
        ib = _mm256_add_epi32(_mm256_cvtps_epi32(fb), zero);
        packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(ia, ib), 0xD8);
        bytes = _mm_packus_epi16(_mm256_castsi256_si128(packed),
                                 _mm256_extracti128_si256(packed, 1));
        if (n == CHUNK) {
            _mm_storeu_si128((__m128i *)(y + x0), bytes);
        } else {
            uint8_t t[CHUNK];
            _mm_storeu_si128((__m128i *)t, bytes);
            memcpy(y + x0, t, (size_t)n);
        }
    }
}
#endif

#ifdef QDW_NEON
/* 8 pixels per pass, widening multiply-accumulate by the tap's weight. */
static void row_neon(const qdw_channel *ch, int oy, uint8_t *y)
{
    int32_t acc[8];
    int x0, i, j, ox;
    for (x0 = 0; x0 < ch->out_w; x0 += 8) {
        int n = ch->out_w - x0 < 8 ? ch->out_w - x0 : 8;
        int32x4_t a = vdupq_n_s32(ch->bias), b = a;
        for (i = 0; i < ch->kh; i++)
            for (j = 0; j < ch->kw; j++) {
                int16x8_t v = vld1q_s16(tap(ch, oy, i * ch->kw + j) + x0);
                int16_t wv = ch->w[i * ch->kw + j];
                a = vmlal_n_s16(a, vget_low_s16(v), wv);
                b = vmlal_n_s16(b, vget_high_s16(v), wv);
            }
        vst1q_s32(acc, a);
        vst1q_s32(acc + 4, b);
        for (ox = 0; ox < n; ox++)
            y[x0 + ox] = requantize(acc[ox], ch);
    }
}
#endif

typedef void (*row_fn)(const qdw_channel *, int, uint8_t *);

static row_fn choose_row(void)
{
#ifdef QDW_X86
    ei_simd_level level = ei_simd_active();
    if (level == EI_SIMD_AVX2 || level == EI_SIMD_AVX512)
        return row_avx2;
#endif
#ifdef QDW_NEON
    if (ei_simd_active() == EI_SIMD_NEON)
        return row_neon;
#endif
    return row_portable;
}

int ei_qdwconv(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top, int pad_left,
               int out_h, int out_w, const uint8_t *x, int x_zero, const int8_t *w,
               const int32_t *bias, const float *multiplier, int y_zero, int lo, int hi,
               uint8_t *y)
{
    const int rows = (out_h - 1) * stride + kh;
    /* whole chunks of output plus the widest tap offset, for the last chunk's reads */
    const int width = (out_w + CHUNK - 1) / CHUNK * CHUNK + (kw - 1) / stride;
    const long phase_size = (long)rows * width, plane = (long)out_h * out_w;
    row_fn row = choose_row();
    long *taps = malloc((size_t)kh * kw * sizeof *taps);
    int failed = 0, ch, i, j;
    if (taps == NULL)
        return -1;
    for (i = 0; i < kh; i++)
        for (j = 0; j < kw; j++)
            taps[i * kw + j] = (j % stride) * phase_size + (long)i * width + j / stride;
#ifdef _OPENMP
#pragma omp parallel num_threads(ei_get_num_threads()) if (plane * c * kh * kw > 262144)
#endif
    {
        int16_t *planes = malloc((size_t)stride * phase_size * sizeof *planes);
        if (planes == NULL)
            failed = 1;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (ch = 0; ch < c; ch++) {
            qdw_channel one;
            int oy;
            if (planes == NULL)
                continue;
            one.planes = planes, one.phase_size = phase_size, one.width = width;
            one.taps = taps, one.row_step = (long)stride * width;
            one.stride = stride, one.kh = kh, one.kw = kw, one.out_w = out_w;
            one.w = w + (long)ch * kh * kw;
            one.bias = bias != NULL ? bias[ch] : 0;
            one.multiplier = multiplier[ch];
            one.lo = (float)(lo - y_zero), one.hi = (float)(hi - y_zero), one.y_zero = y_zero;
            fill_planes(planes, &one, rows, x + (long)ch * in_h * in_w, in_h, in_w, pad_top,
                        pad_left, x_zero);
            for (oy = 0; oy < out_h; oy++)
                row(&one, oy, y + ch * plane + (long)oy * out_w);
        }
        free(planes);
    }
    free(taps);
    return failed ? -1 : 0;
}
