#include "qdwconv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "qdwconv_blocked.h"
#include "qdwconv_nhwc.h"
#include "thread_pool.h"
#include "threads.h"
#include "u8_transpose.h"

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

/* The sums are taken in float32, which is exact here: every product
 * (x - x_zero) * w is an integer of at most 255 x 128 = 32640 in magnitude,
 * and a sum of at most EI_QDWCONV_MAX_TAPS of them stays below 2^24, where
 * float32 holds every integer. So the vector units' fused multiply-adds
 * (two instructions per tap for 16 pixels) give the int32 sum exactly. */

/* One channel, ready for any path: its input less the zero point as
 * float32, padded, split by column phase so that a strided tap reads a
 * contiguous run: phase p, row r, column q holds the padded input at
 * (r, q * stride + p). */
typedef struct {
    const float *planes;     /* stride phases x rows x width */
    const long *taps;        /* kh x kw: where tap (i, j) of output row 0 starts */
    long row_step;           /* stride x width: from one output row to the next */
    long phase_size;
    int width, stride, kh, kw, out_w;
    const float *w;          /* kh x kw, the int8 weights as float32 */
    int32_t bias;
    float multiplier, lo, hi; /* bounds less the output zero point */
    int y_zero;
} qdw_channel;

/* dst[u] = src[u * step] - zero for u < n; `avail` bytes can be read at src. */
typedef void (*widen_fn)(float *dst, const uint8_t *src, int n, int step, long avail, float zero);

static void widen_portable(float *dst, const uint8_t *src, int n, int step, long avail,
                           float zero)
{
    int u;
    (void)avail;
    for (u = 0; u < n; u++)
        dst[u] = (float)src[(long)u * step] - zero;
}

#ifdef QDW_X86
__attribute__((target("avx2,fma"))) static void widen_avx2(float *dst, const uint8_t *src, int n,
                                                           int step, long avail, float zero)
{
    const __m256 z = _mm256_set1_ps(zero);
    /* the even bytes of 16 first: a strided row's columns side by side */
    const __m128i evens = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    int u = 0;
    if (step == 1)
        for (; u + 8 <= n; u += 8) {
            __m128i b = _mm_loadl_epi64((const __m128i *)(src + u));
            __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
            _mm256_storeu_ps(dst + u, _mm256_sub_ps(f, z));
        }
    else if (step == 2)
        for (; u + 8 <= n && 2L * u + 16 <= avail; u += 8) {
            __m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 2 * u)), evens);
            __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
            _mm256_storeu_ps(dst + u, _mm256_sub_ps(f, z));
        }
    for (; u < n; u++)
        dst[u] = (float)src[(long)u * step] - zero;
}
#endif

/* The padded channel's rows, less the zero point, into each phase's plane:
 * input column ix lands at padded column ix + pad_left, in phase
 * (ix + pad_left) % stride at (ix + pad_left) / stride. */
static void fill_planes(float *planes, const qdw_channel *ch, int rows, const uint8_t *x,
                        int in_h, int in_w, int pad_top, int pad_left, int x_zero,
                        widen_fn widen)
{
    const int s = ch->stride;
    int p, r, f;
    for (r = 0; r < rows; r++) {
        int iy = r - pad_top;
        for (p = 0; p < s; p++)
            memset(planes + p * ch->phase_size + (long)r * ch->width, 0,
                   (size_t)ch->width * sizeof *planes);
        if (iy < 0 || iy >= in_h)
            continue;
        /* the input columns f, f + s, f + 2s ... share one phase */
        for (f = 0; f < s && f < in_w; f++) {
            int c = f + pad_left, q = c / s, n = (in_w - f + s - 1) / s;
            if (q >= ch->width)
                continue;
            if (n > ch->width - q)
                n = ch->width - q;
            widen(planes + (c % s) * ch->phase_size + (long)r * ch->width + q,
                  x + (long)iy * in_w + f, n, s, (long)in_w - f, (float)x_zero);
        }
    }
}

static uint8_t requantize(float sum, const qdw_channel *ch)
{
    /* the sum is a whole number (see above): to int32 exactly, then the bias */
    float v = (float)((int32_t)sum + ch->bias) * ch->multiplier;
    /* the bounds are whole numbers: clamping before rounding agrees with after */
    v = v < ch->lo ? ch->lo : (v > ch->hi ? ch->hi : v);
    return (uint8_t)(lrintf(v) + ch->y_zero);   /* to nearest, ties to even */
}

/* The start of tap t = i * kw + j for output row oy: a contiguous run over ox. */
static const float *tap(const qdw_channel *ch, int oy, int t)
{
    return ch->planes + oy * ch->row_step + ch->taps[t];
}

static void row_portable(const qdw_channel *ch, int oy, uint8_t *y)
{
    float acc[CHUNK];
    int x0, ox, t, taps = ch->kh * ch->kw;
    for (x0 = 0; x0 < ch->out_w; x0 += CHUNK) {
        int n = ch->out_w - x0 < CHUNK ? ch->out_w - x0 : CHUNK;
        for (ox = 0; ox < n; ox++)
            acc[ox] = 0.0f;
        for (t = 0; t < taps; t++) {
            const float *src = tap(ch, oy, t) + x0;
            float wv = ch->w[t];
            for (ox = 0; ox < n; ox++)
                acc[ox] += wv * src[ox];
        }
        for (ox = 0; ox < n; ox++)
            y[x0 + ox] = requantize(acc[ox], ch);
    }
}

#ifdef QDW_X86
__attribute__((target("avx2,fma"))) static __m256i requantize8(__m256 sum, const qdw_channel *ch)
{
    __m256i acc = _mm256_add_epi32(_mm256_cvtps_epi32(sum), _mm256_set1_epi32(ch->bias));
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(ch->multiplier));
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(ch->lo)), _mm256_set1_ps(ch->hi));
    /* ties to even (MXCSR's rounding) */
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(ch->y_zero));
}

/* 16 pixels per pass: two fused multiply-adds per tap. */
__attribute__((target("avx2,fma"))) static void row_avx2(const qdw_channel *ch, int oy,
                                                         uint8_t *y)
{
    int x0, t, taps = ch->kh * ch->kw;
    for (x0 = 0; x0 < ch->out_w; x0 += CHUNK) {
        int n = ch->out_w - x0 < CHUNK ? ch->out_w - x0 : CHUNK;
        __m256 a = _mm256_setzero_ps(), b = a;
        __m256i packed;
        __m128i bytes;
        if (n <= 8) {
            /* a short row (7x7 maps): half the work */
            for (t = 0; t < taps; t++)
                a = _mm256_fmadd_ps(_mm256_loadu_ps(tap(ch, oy, t) + x0),
                                    _mm256_set1_ps(ch->w[t]), a);
        } else {
            for (t = 0; t < taps; t++) {
                const float *src = tap(ch, oy, t) + x0;
                __m256 wv = _mm256_set1_ps(ch->w[t]);
                a = _mm256_fmadd_ps(_mm256_loadu_ps(src), wv, a);
                b = _mm256_fmadd_ps(_mm256_loadu_ps(src + 8), wv, b);
            }
        }
        packed = _mm256_permute4x64_epi64(
            _mm256_packs_epi32(requantize8(a, ch), requantize8(b, ch)), 0xD8);
        bytes = _mm_packus_epi16(_mm256_castsi256_si128(packed),
                                 _mm256_extracti128_si256(packed, 1));
        if (n == CHUNK) {
            _mm_storeu_si128((__m128i *)(y + x0), bytes);
        } else {
            uint8_t tmp[CHUNK];
            _mm_storeu_si128((__m128i *)tmp, bytes);
            memcpy(y + x0, tmp, (size_t)n);
        }
    }
}
#endif

#ifdef QDW_X86
#define QDW_AVX512_TARGET "avx512f,avx512bw,avx512vl,fma"

__attribute__((target(QDW_AVX512_TARGET))) static void widen_avx512(float *dst, const uint8_t *src,
                                                                   int n, int step, long avail,
                                                                   float zero)
{
    const __m512 z = _mm512_set1_ps(zero);
    int u = 0;
    if (step == 1)
        for (; u + 16 <= n; u += 16) {
            __m512 f = _mm512_cvtepi32_ps(
                _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(src + u))));
            _mm512_storeu_ps(dst + u, _mm512_sub_ps(f, z));
        }
    else if (step == 2)
        /* the even bytes of 32: a strided row's columns side by side */
        for (; u + 16 <= n && 2L * u + 32 <= avail; u += 16) {
            __m256i pairs = _mm256_loadu_si256((const __m256i *)(src + 2 * u));
            __m512i words = _mm512_cvtepu8_epi16(pairs);
            __m512i evens = _mm512_and_si512(_mm512_srli_epi32(_mm512_slli_epi32(
                                                 words, 16), 16), _mm512_set1_epi32(0xff));
            _mm512_storeu_ps(dst + u, _mm512_sub_ps(_mm512_cvtepi32_ps(evens), z));
        }
    for (; u < n; u++)
        dst[u] = (float)src[(long)u * step] - zero;
}

/* 16 pixels per pass: one fused multiply-add per tap. */
__attribute__((target(QDW_AVX512_TARGET))) static void row_avx512(const qdw_channel *ch, int oy,
                                                                 uint8_t *y)
{
    const __m512 lo = _mm512_set1_ps(ch->lo), hi = _mm512_set1_ps(ch->hi);
    int x0, t, taps = ch->kh * ch->kw;
    for (x0 = 0; x0 < ch->out_w; x0 += CHUNK) {
        const int n = ch->out_w - x0 < CHUNK ? ch->out_w - x0 : CHUNK;
        __m512 a = _mm512_setzero_ps(), b = a, v;
        __m128i bytes;
        /* two chains, the even and odd taps, summed at the end */
        for (t = 0; t + 1 < taps; t += 2) {
            a = _mm512_fmadd_ps(_mm512_loadu_ps(tap(ch, oy, t) + x0), _mm512_set1_ps(ch->w[t]), a);
            b = _mm512_fmadd_ps(_mm512_loadu_ps(tap(ch, oy, t + 1) + x0),
                                _mm512_set1_ps(ch->w[t + 1]), b);
        }
        if (t < taps)
            a = _mm512_fmadd_ps(_mm512_loadu_ps(tap(ch, oy, t) + x0), _mm512_set1_ps(ch->w[t]), a);
        /* whole numbers below 2^24: the sum of the two chains is exact */
        v = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_cvtps_epi32(_mm512_add_ps(a, b)),
                                                _mm512_set1_epi32(ch->bias)));
        v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(v, _mm512_set1_ps(ch->multiplier)), lo), hi);
        /* ties to even (MXCSR's rounding); in 0..255 after the zero point */
        bytes = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v),
                                                      _mm512_set1_epi32(ch->y_zero)));
        if (n == CHUNK)
            _mm_storeu_si128((__m128i *)(y + x0), bytes);
        else
            _mm_mask_storeu_epi8(y + x0, (__mmask16)((1u << n) - 1), bytes);
    }
}
#endif

#ifdef QDW_NEON
/* 8 pixels per pass, multiply-accumulate by the tap's weight (exact, as the
 * fused form is: every value is a whole number below 2^24). */
static void row_neon(const qdw_channel *ch, int oy, uint8_t *y)
{
    float acc[8];
    int x0, t, ox, taps = ch->kh * ch->kw;
    for (x0 = 0; x0 < ch->out_w; x0 += 8) {
        int n = ch->out_w - x0 < 8 ? ch->out_w - x0 : 8;
        float32x4_t a = vdupq_n_f32(0.0f), b = a;
        for (t = 0; t < taps; t++) {
            const float *src = tap(ch, oy, t) + x0;
            a = vmlaq_n_f32(a, vld1q_f32(src), ch->w[t]);
            b = vmlaq_n_f32(b, vld1q_f32(src + 4), ch->w[t]);
        }
        vst1q_f32(acc, a);
        vst1q_f32(acc + 4, b);
        for (ox = 0; ox < n; ox++)
            y[x0 + ox] = requantize(acc[ox], ch);
    }
}
#endif

typedef void (*row_fn)(const qdw_channel *, int, uint8_t *);

/* Output widths up to this go channels-last: a row of them fills too little
 * of a 16-pixel chunk, and the channels-last path's transposes cost less than
 * the lanes lost. Measured on one x86 core (AVX-512): 0.3-0.7x the planes'
 * time at widths 7-28, even at 56 and 112, slower on 112x112 stride 1. */
#define BLOCKED_MAX_WIDTH 28
/* and heights up to this: each thread's tile is 16 floats per padded pixel,
 * which a tall narrow map (a 1-D signal stood on end) would make large */
#define BLOCKED_MAX_HEIGHT 64

static int forced_layout = -1;

int ei_qdwconv_force_layout(int layout)
{
    if (layout < -1 || layout > 2)
        return -1;
    forced_layout = layout;
    return 0;
}

/* The planes through ei_qdwconv_nhwc, transposed in and out: the forced
 * layout 2, so tests and the cross builds reach the channels-last kernel
 * through this function's arguments. */
static int through_nhwc(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                        int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                        const int8_t *w, const int32_t *bias, const float *multiplier,
                        int y_zero, int lo, int hi, uint8_t *y)
{
    uint8_t *xt = malloc((size_t)c * in_h * in_w), *yt = malloc((size_t)c * out_h * out_w);
    int status = -1;
    if (xt != NULL && yt != NULL) {
        ei_u8_transpose(c, (long)in_h * in_w, x, xt);
        status = ei_qdwconv_nhwc(c, in_h, in_w, kh, kw, stride, pad_top, pad_left, out_h, out_w,
                                 xt, x_zero, w, bias, multiplier, y_zero, lo, hi, yt,
                                 ei_simd_active());
        ei_u8_transpose((long)out_h * out_w, c, yt, y);
    }
    free(xt), free(yt);
    return status;
}

static row_fn choose_row(widen_fn *widen)
{
    *widen = widen_portable;
#ifdef QDW_X86
    ei_simd_level level = ei_simd_active();
    /* the AVX-512 row's byte loads and masked stores are AVX512BW/VL */
    __builtin_cpu_init();
    if (level == EI_SIMD_AVX512 && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl")) {
        *widen = widen_avx512;
        return row_avx512;
    }
    if (level == EI_SIMD_AVX2 || level == EI_SIMD_AVX512) {
        *widen = widen_avx2;
        return row_avx2;
    }
#endif
#ifdef QDW_NEON
    if (ei_simd_active() == EI_SIMD_NEON)
        return row_neon;
#endif
    return row_portable;
}

/* A depthwise step's arguments, as its tasks read them, and each thread's
 * planes (allocated the first time the thread takes a channel). */
typedef struct {
    qdw_channel shared; /* all but the channel's own weights, bias and multiplier */
    row_fn row;
    widen_fn widen;
    const uint8_t *x;
    const int32_t *bias;
    const float *multiplier, *weights;
    uint8_t *y;
    int rows, in_h, in_w, pad_top, pad_left, out_h, x_zero, taps_count;
    long plane;
    float *planes[EI_MAX_THREADS];
} qdw_step;

/* One channel: its padded input split by phase, then its output rows. */
static int qdw_task(void *ctx, int ch, int thread)
{
    qdw_step *s = (qdw_step *)ctx;
    qdw_channel one = s->shared;
    int oy;
    if (s->planes[thread] == NULL) {
        s->planes[thread] = malloc((size_t)one.stride * one.phase_size * sizeof(float));
        if (s->planes[thread] == NULL)
            return -1;
    }
    one.planes = s->planes[thread];
    one.w = s->weights + (long)ch * s->taps_count;
    one.bias = s->bias != NULL ? s->bias[ch] : 0;
    one.multiplier = s->multiplier[ch];
    fill_planes(s->planes[thread], &one, s->rows, s->x + (long)ch * s->in_h * s->in_w, s->in_h,
                s->in_w, s->pad_top, s->pad_left, s->x_zero, s->widen);
    for (oy = 0; oy < s->out_h; oy++)
        s->row(&one, oy, s->y + ch * s->plane + (long)oy * one.out_w);
    return 0;
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
    const int taps_count = kh * kw;
    widen_fn widen;
    row_fn row = choose_row(&widen);
    long *taps;
    float *weights;
    qdw_step s;
    int status, i, j;
    if (taps_count > EI_QDWCONV_MAX_TAPS)
        return -2;
    if (forced_layout == 2)
        return through_nhwc(c, in_h, in_w, kh, kw, stride, pad_top, pad_left, out_h, out_w, x,
                            x_zero, w, bias, multiplier, y_zero, lo, hi, y);
    if (forced_layout == 1 ||
        (forced_layout == -1 && out_w <= BLOCKED_MAX_WIDTH && out_h <= BLOCKED_MAX_HEIGHT))
        return ei_qdwconv_blocked(c, in_h, in_w, kh, kw, stride, pad_top, pad_left, out_h, out_w,
                                  x, x_zero, w, bias, multiplier, y_zero, lo, hi, y,
                                  ei_simd_active());
    taps = malloc((size_t)taps_count * sizeof *taps);
    weights = malloc((size_t)c * taps_count * sizeof *weights);
    if (taps == NULL || weights == NULL) {
        free(taps), free(weights);
        return -1;
    }
    for (i = 0; i < kh; i++)
        for (j = 0; j < kw; j++)
            taps[i * kw + j] = (j % stride) * phase_size + (long)i * width + j / stride;
    for (i = 0; i < c * taps_count; i++)
        weights[i] = (float)w[i];
    memset(&s, 0, sizeof s);
    s.shared.phase_size = phase_size, s.shared.width = width;
    s.shared.taps = taps, s.shared.row_step = (long)stride * width;
    s.shared.stride = stride, s.shared.kh = kh, s.shared.kw = kw, s.shared.out_w = out_w;
    s.shared.lo = (float)(lo - y_zero), s.shared.hi = (float)(hi - y_zero);
    s.shared.y_zero = y_zero;
    s.row = row, s.widen = widen;
    s.x = x, s.bias = bias, s.multiplier = multiplier, s.weights = weights, s.y = y;
    s.rows = rows, s.in_h = in_h, s.in_w = in_w, s.pad_top = pad_top, s.pad_left = pad_left;
    s.out_h = out_h, s.x_zero = x_zero, s.taps_count = taps_count, s.plane = plane;
    status = ei_parallel_for(c, ei_threads_for(c, (double)plane * taps_count), qdw_task, &s);
    for (i = 0; i < EI_MAX_THREADS; i++)
        free(s.planes[i]);
    free(taps), free(weights);
    return status < 0 ? -1 : 0;
}
