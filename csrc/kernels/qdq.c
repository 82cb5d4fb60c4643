/* Plain C loops that compilers vectorise for any target, compiled once more
 * for AVX2 and AVX-512 on x86 and chosen by the active SIMD level (the
 * baseline SSE2 takes two doubles a vector; AVX-512 eight); rounding by the
 * 1.5 x 2^23 trick (round to nearest even in the default rounding mode)
 * after clamping to the output range, where it is exact, rather than rintf,
 * which is a library call on targets without a rounding instruction. */
#include "qdq.h"

#include <string.h>

#include "cpu.h"
#include "thread_pool.h"
#include "threads.h"
#include "u8_transpose.h"

#define ROUNDER 12582912.0f

/* v clamped to [lo, hi] (whole numbers, |.| < 2^22) and rounded half to
 * even, as an int; NaN gives lo. */
#define CLAMP_ROUND(v, lo, hi)                                                                 \
    ((int)((((v) > (lo) ? ((v) < (hi) ? (v) : (hi)) : (lo)) + ROUNDER) - ROUNDER))

#define QDQ_LOOPS(SUFFIX, ATTR)                                                                \
    ATTR static void quantize_##SUFFIX(ptrdiff_t n, const float *x, float scale, int zero,     \
                                       uint8_t *y)                                             \
    {                                                                                          \
        const float lo = (float)-zero, hi = (float)(255 - zero);                               \
        ptrdiff_t i;                                                                           \
        for (i = 0; i < n; i++) {                                                              \
            const float v = x[i] / scale;                                                      \
            y[i] = (uint8_t)(CLAMP_ROUND(v, lo, hi) + zero);                                   \
        }                                                                                      \
    }                                                                                          \
    ATTR static void dequantize_##SUFFIX(ptrdiff_t n, const uint8_t *x, float scale, int zero, \
                                         float *y)                                             \
    {                                                                                          \
        ptrdiff_t i;                                                                           \
        for (i = 0; i < n; i++)                                                                \
            y[i] = (float)((int)x[i] - zero) * scale;                                          \
    }                                                                                          \
    ATTR static void qadd_##SUFFIX(ptrdiff_t n, const uint8_t *a, int a_zero, float a_ratio,   \
                                   const uint8_t *b, int b_zero, float b_ratio, int y_zero,    \
                                   uint8_t *y)                                                 \
    {                                                                                          \
        const double lo = (double)-y_zero, hi = (double)(255 - y_zero);                        \
        const double rounder = 6755399441055744.0; /* 1.5 x 2^52: whole doubles */             \
        ptrdiff_t i;                                                                           \
        for (i = 0; i < n; i++) {                                                              \
            double v = (double)((int)a[i] - a_zero) * a_ratio +                                \
                       (double)((int)b[i] - b_zero) * b_ratio;                                 \
            v = v > lo ? (v < hi ? v : hi) : lo;                                               \
            y[i] = (uint8_t)((int)((v + rounder) - rounder) + y_zero);                         \
        }                                                                                      \
    }

QDQ_LOOPS(portable, )
#if EI_HAVE_X86_TARGETS && !defined(EI_NO_SIMD)
QDQ_LOOPS(avx2, __attribute__((target("avx2,fma"))))
QDQ_LOOPS(avx512, __attribute__((target("avx512f,avx512bw,avx512vl"))))
#define QDQ_CALL(NAME, ...)                                                                    \
    do {                                                                                       \
        const ei_simd_level level_ = ei_simd_active();                                         \
        if (level_ == EI_SIMD_AVX512)                                                          \
            NAME##_avx512(__VA_ARGS__);                                                        \
        else if (level_ == EI_SIMD_AVX2)                                                       \
            NAME##_avx2(__VA_ARGS__);                                                          \
        else                                                                                   \
            NAME##_portable(__VA_ARGS__);                                                      \
    } while (0)
#else
#define QDQ_CALL(NAME, ...) NAME##_portable(__VA_ARGS__)
#endif

/* Elements per task of a step split between threads: a whole number of
 * 64-byte lines of the uint8 side, whatever the vector width. Each element
 * counts as a few multiply-adds of work towards the pool's share
 * (threads.h): a division, a clamp and a rounding, or two products. */
#define RANGE_CHUNK 16384
#define ELEMENT_WORK 4.0

/* One elementwise step, as its tasks read it. */
typedef struct {
    int kind; /* QUANTIZE, DEQUANTIZE or QADD */
    ptrdiff_t n;
    const void *x, *b;
    void *y;
    float scale, b_ratio;
    int zero, b_zero, y_zero;
} range_step;

enum { QUANTIZE, DEQUANTIZE, QADD };

static int range_task(void *ctx, int task, int thread)
{
    const range_step *s = (const range_step *)ctx;
    const ptrdiff_t first = (ptrdiff_t)task * RANGE_CHUNK;
    const ptrdiff_t n = s->n - first < RANGE_CHUNK ? s->n - first : RANGE_CHUNK;
    (void)thread;
    if (s->kind == QUANTIZE)
        QDQ_CALL(quantize, n, (const float *)s->x + first, s->scale, s->zero,
                 (uint8_t *)s->y + first);
    else if (s->kind == DEQUANTIZE)
        QDQ_CALL(dequantize, n, (const uint8_t *)s->x + first, s->scale, s->zero,
                 (float *)s->y + first);
    else
        QDQ_CALL(qadd, n, (const uint8_t *)s->x + first, s->zero, s->scale,
                 (const uint8_t *)s->b + first, s->b_zero, s->b_ratio, s->y_zero,
                 (uint8_t *)s->y + first);
    return 0;
}

/* The step in chunks, shared between threads when it is large enough: each
 * chunk writes its own part of y. */
static void run_ranges(const range_step *s)
{
    const ptrdiff_t tasks = (s->n + RANGE_CHUNK - 1) / RANGE_CHUNK;
    if (tasks < 1)
        return;
    ei_parallel_for((int)tasks, ei_threads_for((double)tasks, RANGE_CHUNK * ELEMENT_WORK),
                    range_task, (void *)s);
}

void ei_quantize_u8(ptrdiff_t n, const float *x, float scale, int zero, uint8_t *y)
{
    range_step s = {QUANTIZE, n, x, NULL, y, scale, 0.0f, zero, 0, 0};
    run_ranges(&s);
}

void ei_dequantize_u8(ptrdiff_t n, const uint8_t *x, float scale, int zero, float *y)
{
    range_step s = {DEQUANTIZE, n, x, NULL, y, scale, 0.0f, zero, 0, 0};
    run_ranges(&s);
}

void ei_qadd_u8(ptrdiff_t n, const uint8_t *a, int a_zero, float a_ratio, const uint8_t *b,
                int b_zero, float b_ratio, int y_zero, uint8_t *y)
{
    range_step s = {QADD, n, a, b, y, a_ratio, b_ratio, a_zero, b_zero, y_zero};
    run_ranges(&s);
}

/* Pixels quantised at a time per channel (16 rows of them are 16 KiB): shorter strips
 * lose more to each call's loop set-up than the transpose costs. */
#define STRIP 1024

/* A channels-last quantisation, as its tasks (strips of pixels) read it. */
typedef struct {
    long channels, pixels;
    const float *x;
    float scale;
    int zero;
    uint8_t *y;
} nhwc_step;

/* One strip of pixels, whole before the next: each output line written once. */
static int nhwc_strip_task(void *ctx, int task, int thread)
{
    const nhwc_step *s = (const nhwc_step *)ctx;
    const long channels = s->channels, pixels = s->pixels, p0 = (long)task * STRIP;
    const int np = pixels - p0 < STRIP ? (int)(pixels - p0) : STRIP;
    uint8_t strip[16][STRIP], blk[16][16];
    long c0;
    int c, p, q;
    (void)thread;
    for (c0 = 0; c0 < channels; c0 += 16) {
        const int nc = channels - c0 < 16 ? (int)(channels - c0) : 16;
        for (c = 0; c < nc; c++)
            QDQ_CALL(quantize, np, s->x + (c0 + c) * pixels + p0, s->scale, s->zero, strip[c]);
        /* 16 x 16 blocks through the byte transpose; a partial one by bytes */
        for (q = 0; q < np; q += 16) {
            uint8_t *dst = s->y + (p0 + q) * channels + c0;
            if (nc < 16 || np - q < 16) {
                for (p = 0; p < 16 && q + p < np; p++)
                    for (c = 0; c < nc; c++)
                        dst[p * channels + c] = strip[c][q + p];
                continue;
            }
            for (c = 0; c < 16; c++)
                memcpy(blk[c], strip[c] + q, 16);
            ei_u8_transpose16(blk);
            for (p = 0; p < 16; p++)
                memcpy(dst + p * channels, blk[p], 16);
        }
    }
    return 0;
}

void ei_quantize_u8_nhwc(long channels, long pixels, const float *x, float scale, int zero,
                         uint8_t *y)
{
    const long strips = (pixels + STRIP - 1) / STRIP;
    nhwc_step s;
    if (strips < 1 || channels < 1)
        return;
    s.channels = channels, s.pixels = pixels, s.x = x, s.scale = scale, s.zero = zero, s.y = y;
    ei_parallel_for((int)strips,
                    ei_threads_for((double)strips, (double)STRIP * channels * ELEMENT_WORK),
                    nhwc_strip_task, &s);
}
