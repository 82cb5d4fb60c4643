#include "qconv_nhwc.h"

#include <math.h>
#include <string.h>

#include "cpu.h"
#include "qconv.h"
#include "thread_pool.h"
#include "threads.h"

#if EI_HAVE_X86_TARGETS && !defined(EI_NO_SIMD)
#include <immintrin.h>
#define QNHWC_X86 1
#endif

#define LANES EI_QCONV_NHWC_LANES
/* Pixels per pass (their sums in registers) and pixels per work item. */
#define PASS_PIXELS 6
#define ITEM_PIXELS 48
/* Output channels per work item: four vectors of 16 */
#define ITEM_CHANNELS 64

typedef struct {
    int m, k, mp, k4;
    int in_w, stride, out_w;
    const uint8_t *x;
    const int8_t *w8;
    const int16_t *w16;
    const int32_t *folded;
    const float *multipliers;
    float lo, hi; /* output bounds less the output zero point */
    int y_zero;
    uint8_t *y;
} qnhwc;

static const uint8_t *pixel_at(const qnhwc *q, long o)
{
    const long oy = o / q->out_w, ox = o % q->out_w;
    return q->x + ((oy * q->stride) * q->in_w + ox * q->stride) * q->k;
}

static uint8_t requantize(int32_t acc, float multiplier, float lo, float hi, int y_zero)
{
    float v = (float)acc * multiplier;
    v = v < lo ? lo : (v > hi ? hi : v);
    return (uint8_t)(lrintf(v) + y_zero); /* to nearest, ties to even */
}

static void item_portable(const qnhwc *q, long p0, int pixels, int n0, int channels)
{
    int32_t acc[ITEM_CHANNELS];
    int p, c, n;
    for (p = 0; p < pixels; p++) {
        const uint8_t *px = pixel_at(q, p0 + p);
        uint8_t *dst = q->y + (p0 + p) * q->m + n0;
        for (n = 0; n < channels; n++)
            acc[n] = q->folded[n0 + n];
        for (c = 0; c < q->k; c++) {
            const int32_t xv = px[c];
            const int8_t *wc = q->w8 + ((long)(c / 4) * q->mp + n0) * 4 + c % 4;
            for (n = 0; n < channels; n++)
                acc[n] += xv * wc[4 * n];
        }
        for (n = 0; n < channels; n++)
            dst[n] = requantize(acc[n], q->multipliers[n0 + n], q->lo, q->hi, q->y_zero);
    }
}

#ifdef QNHWC_X86
/* Input channels 4j .. 4j+3 of a pixel as one little-endian word; past k
 * zero (their weights are zero, but the bytes may lie past the buffer). */
static int32_t quad_at(const uint8_t *px, int j, int k)
{
    uint8_t b[4] = {0, 0, 0, 0};
    int32_t v;
    memcpy(b, px + 4 * j, (size_t)(k - 4 * j < 4 ? k - 4 * j : 4));
    memcpy(&v, b, 4);
    return v;
}

/* AVX2: pairs of input channels widened to 16 bits, vpmaddwd against pairs
 * of 16-bit weights: exact (vpmaddubsw's pair sums could saturate). Six
 * pixels x 16 output channels per pass. */
__attribute__((target("avx2,fma"))) static void item_avx2(const qnhwc *q, long p0, int pixels,
                                                          int n0, int channels)
{
    const __m256 lo = _mm256_set1_ps(q->lo), hi = _mm256_set1_ps(q->hi);
    const __m256i y_zero = _mm256_set1_epi32(q->y_zero);
    const int k2 = 2 * q->k4, whole = q->k / 2;
    int p, n, r, j, v;
    for (n = 0; n < channels; n += 16) {
        const int left = channels - n;
        for (p = 0; p < pixels; p += PASS_PIXELS) {
            const int count = pixels - p < PASS_PIXELS ? pixels - p : PASS_PIXELS;
            const uint8_t *px[PASS_PIXELS];
            __m256i acc[PASS_PIXELS][2];
            for (r = 0; r < PASS_PIXELS; r++) {
                px[r] = pixel_at(q, p0 + p + (r < count ? r : count - 1));
                for (v = 0; v < 2; v++)
                    acc[r][v] = _mm256_loadu_si256(
                        (const __m256i *)(q->folded + n0 + n + 8 * v));
            }
            for (j = 0; j < k2; j++) {
                const int16_t *wj = q->w16 + ((long)j * q->mp + n0 + n) * 2;
                const __m256i w0 = _mm256_loadu_si256((const __m256i *)wj);
                const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wj + 16));
                for (r = 0; r < PASS_PIXELS; r++) {
                    const int a = 2 * j < q->k ? px[r][2 * j] : 0;
                    const int b = j < whole ? px[r][2 * j + 1] : 0;
                    const __m256i xv = _mm256_set1_epi32(a | b << 16);
                    acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(xv, w0));
                    acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(xv, w1));
                }
            }
            for (r = 0; r < count; r++) {
                uint8_t *dst = q->y + (p0 + p + r) * q->m + n0 + n;
                uint8_t bytes[16];
                __m128i packed;
                __m256i i[2];
                for (v = 0; v < 2; v++) {
                    __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[r][v]),
                                             _mm256_loadu_ps(q->multipliers + n0 + n + 8 * v));
                    f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
                    i[v] = _mm256_add_epi32(_mm256_cvtps_epi32(f), y_zero);
                }
                packed = _mm_packus_epi16(
                    _mm_packs_epi32(_mm256_castsi256_si128(i[0]), _mm256_extracti128_si256(i[0], 1)),
                    _mm_packs_epi32(_mm256_castsi256_si128(i[1]), _mm256_extracti128_si256(i[1], 1)));
                if (left >= 16) {
                    _mm_storeu_si128((__m128i *)dst, packed);
                } else {
                    _mm_storeu_si128((__m128i *)bytes, packed);
                    memcpy(dst, bytes, (size_t)left);
                }
            }
        }
    }
}

/* AVX-512 VNNI: vpdpbusd takes a pixel's four u8 channels broadcast against
 * four s8 weights of each of 16 output channels. Six pixels x NV vectors
 * (NV = 4 covers an item's 64 channels) per pass, in named accumulators (an
 * array of them was spilled); pixels past the last repeat it and are not
 * written. */
#define VNNI512_TARGET "avx512f,avx512vl,avx512bw,avx512vnni"

static int32_t load_quad(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* pixel R's sums against the loaded weight vectors, for quad Q */
#define VNNI_ROW(R, Q)                                                                       \
    do {                                                                                     \
        const __m512i x_ = _mm512_set1_epi32(Q);                                             \
        a##R##0 = _mm512_dpbusd_epi32(a##R##0, x_, w0);                                      \
        if (NV > 1)                                                                          \
            a##R##1 = _mm512_dpbusd_epi32(a##R##1, x_, w1);                                  \
        if (NV > 2)                                                                          \
            a##R##2 = _mm512_dpbusd_epi32(a##R##2, x_, w2);                                  \
        if (NV > 3)                                                                          \
            a##R##3 = _mm512_dpbusd_epi32(a##R##3, x_, w3);                                  \
    } while (0)
#define VNNI_ROWS(QUAD)                                                                      \
    do {                                                                                     \
        VNNI_ROW(0, QUAD(p0_)); VNNI_ROW(1, QUAD(p1_)); VNNI_ROW(2, QUAD(p2_));              \
        VNNI_ROW(3, QUAD(p3_)); VNNI_ROW(4, QUAD(p4_)); VNNI_ROW(5, QUAD(p5_));              \
    } while (0)
#define VNNI_WEIGHTS(J)                                                                      \
    do {                                                                                     \
        const int8_t *wj_ = q->w8 + ((long)(J) * q->mp + n0) * 4;                            \
        w0 = _mm512_loadu_si512((const void *)wj_);                                          \
        if (NV > 1)                                                                          \
            w1 = _mm512_loadu_si512((const void *)(wj_ + 64));                               \
        if (NV > 2)                                                                          \
            w2 = _mm512_loadu_si512((const void *)(wj_ + 128));                              \
        if (NV > 3)                                                                          \
            w3 = _mm512_loadu_si512((const void *)(wj_ + 192));                              \
    } while (0)
#define VNNI_INIT(R)                                                                         \
    __m512i a##R##0 = bias0, a##R##1 = bias1, a##R##2 = bias2, a##R##3 = bias3
#define VNNI_STORE(R)                                                                        \
    do {                                                                                     \
        if (R < count) {                                                                     \
            uint8_t *dst_ = q->y + (p0 + R) * q->m + n0;                                      \
            vnni512_write(q, dst_, a##R##0, n0, channels);                                   \
            if (NV > 1)                                                                      \
                vnni512_write(q, dst_ + 16, a##R##1, n0 + 16, channels - 16);                \
            if (NV > 2)                                                                      \
                vnni512_write(q, dst_ + 32, a##R##2, n0 + 32, channels - 32);                \
            if (NV > 3)                                                                      \
                vnni512_write(q, dst_ + 48, a##R##3, n0 + 48, channels - 48);                \
        }                                                                                    \
    } while (0)

/* 16 output channels of a pixel requantised; `left` of them written */
__attribute__((target(VNNI512_TARGET))) static void vnni512_write(const qnhwc *q, uint8_t *dst,
                                                                  __m512i acc, int n, int left)
{
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(q->multipliers + n));
    __m128i bytes;
    f = _mm512_min_ps(_mm512_max_ps(f, _mm512_set1_ps(q->lo)), _mm512_set1_ps(q->hi));
    /* ties to even (MXCSR's rounding); in 0..255 after the clamp */
    bytes = _mm512_cvtepi32_epi8(
        _mm512_add_epi32(_mm512_cvtps_epi32(f), _mm512_set1_epi32(q->y_zero)));
    if (left >= 16)
        _mm_storeu_si128((__m128i *)dst, bytes);
    else
        _mm_mask_storeu_epi8(dst, (__mmask16)((1u << left) - 1), bytes);
}

#define QUAD_WHOLE(P) load_quad((P) + 4 * j)
#define QUAD_TAIL(P) quad_at((P), whole, q->k)

#define VNNI512_PASS(WIDTH)                                                                   \
    __attribute__((target(VNNI512_TARGET))) static void vnni512_pass##WIDTH(                    \
        const qnhwc *q, long p0, int count, int n0, int channels)                            \
    {                                                                                        \
        enum { NV = WIDTH };                                                                 \
        const int whole = q->k / 4;                                                          \
        const uint8_t *p0_ = pixel_at(q, p0), *p1_ = pixel_at(q, p0 + (count > 1 ? 1 : 0));   \
        const uint8_t *p2_ = pixel_at(q, p0 + (count > 2 ? 2 : count - 1));                   \
        const uint8_t *p3_ = pixel_at(q, p0 + (count > 3 ? 3 : count - 1));                   \
        const uint8_t *p4_ = pixel_at(q, p0 + (count > 4 ? 4 : count - 1));                   \
        const uint8_t *p5_ = pixel_at(q, p0 + (count > 5 ? 5 : count - 1));                   \
        const __m512i zero = _mm512_setzero_si512();                                         \
        const __m512i bias0 = _mm512_loadu_si512((const void *)(q->folded + n0));            \
        const __m512i bias1 = NV > 1 ? _mm512_loadu_si512((const void *)(q->folded + n0 + 16)) : zero; \
        const __m512i bias2 = NV > 2 ? _mm512_loadu_si512((const void *)(q->folded + n0 + 32)) : zero; \
        const __m512i bias3 = NV > 3 ? _mm512_loadu_si512((const void *)(q->folded + n0 + 48)) : zero; \
        __m512i w0 = zero, w1 = zero, w2 = zero, w3 = zero;                                  \
        int j;                                                                               \
        VNNI_INIT(0); VNNI_INIT(1); VNNI_INIT(2); VNNI_INIT(3); VNNI_INIT(4); VNNI_INIT(5);  \
        for (j = 0; j < whole; j++) {                                                        \
            VNNI_WEIGHTS(j);                                                                 \
            VNNI_ROWS(QUAD_WHOLE);                                                           \
        }                                                                                    \
        if (whole < q->k4) {                                                                 \
            VNNI_WEIGHTS(whole);                                                             \
            VNNI_ROWS(QUAD_TAIL);                                                            \
        }                                                                                    \
        VNNI_STORE(0); VNNI_STORE(1); VNNI_STORE(2); VNNI_STORE(3); VNNI_STORE(4);           \
        VNNI_STORE(5);                                                                       \
    }

VNNI512_PASS(1)
VNNI512_PASS(2)
VNNI512_PASS(3)
VNNI512_PASS(4)

__attribute__((target(VNNI512_TARGET))) static void item_vnni512(const qnhwc *q, long p0,
                                                                 int pixels, int n0,
                                                                 int channels)
{
    const int nv = (channels + 15) / 16;
    int p;
    for (p = 0; p < pixels; p += PASS_PIXELS) {
        const int count = pixels - p < PASS_PIXELS ? pixels - p : PASS_PIXELS;
        if (nv == 4)
            vnni512_pass4(q, p0 + p, count, n0, channels);
        else if (nv == 3)
            vnni512_pass3(q, p0 + p, count, n0, channels);
        else if (nv == 2)
            vnni512_pass2(q, p0 + p, count, n0, channels);
        else
            vnni512_pass1(q, p0 + p, count, n0, channels);
    }
}
#endif

typedef void (*item_fn)(const qnhwc *, long, int, int, int);

static item_fn choose_item(void)
{
#ifdef QNHWC_X86
    const ei_simd_level level = ei_simd_active();
    if (level == EI_SIMD_AVX512 && ei_qconv_vnni_in_use() == 2)
        return item_vnni512;
    if (level == EI_SIMD_AVX2 || level == EI_SIMD_AVX512)
        return item_avx2;
#endif
    return item_portable;
}

void ei_qconv1x1_nhwc_pack(int m, int k, const int8_t *w, const int32_t *bias, int x_zero,
                           const float *multiplier, int8_t *w8, int16_t *w16, int32_t *folded,
                           float *multipliers)
{
    const int mp = (m + LANES - 1) / LANES * LANES, k4 = (k + 3) / 4;
    int n, c;
    memset(w8, 0, (size_t)k4 * mp * 4);
    memset(w16, 0, (size_t)k4 * mp * 4 * sizeof *w16);
    memset(folded, 0, (size_t)mp * sizeof *folded);
    memset(multipliers, 0, (size_t)mp * sizeof *multipliers);
    for (n = 0; n < m; n++) {
        int32_t sum = 0;
        for (c = 0; c < k; c++) {
            const int8_t v = w[(long)n * k + c];
            w8[((long)(c / 4) * mp + n) * 4 + c % 4] = v;
            w16[((long)(c / 2) * mp + n) * 2 + c % 2] = v;
            sum += v;
        }
        folded[n] = (bias != NULL ? bias[n] : 0) - x_zero * sum;
        multipliers[n] = multiplier[n];
    }
}

/* A channels-last 1x1 step's arguments, as its tasks read them. */
typedef struct {
    const qnhwc *q;
    item_fn item;
    long pixels;
    int chunks;
} qnhwc_step;

/* One tile of pixels for one chunk of output channels. */
static int qnhwc_task(void *ctx, int it, int thread)
{
    const qnhwc_step *s = (const qnhwc_step *)ctx;
    const int m = s->q->m;
    const long p0 = (long)(it / s->chunks) * ITEM_PIXELS;
    const int n0 = (it % s->chunks) * ITEM_CHANNELS;
    const int count = s->pixels - p0 < ITEM_PIXELS ? (int)(s->pixels - p0) : ITEM_PIXELS;
    (void)thread;
    s->item(s->q, p0, count, n0, m - n0 < ITEM_CHANNELS ? m - n0 : ITEM_CHANNELS);
    return 0;
}

int ei_qconv1x1_nhwc(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                     const uint8_t *x, const int8_t *w8, const int16_t *w16,
                     const int32_t *folded, const float *multipliers, int y_zero, int lo, int hi,
                     uint8_t *y)
{
    const long pixels = (long)out_h * out_w;
    const long tiles = (pixels + ITEM_PIXELS - 1) / ITEM_PIXELS;
    const int chunks = (m + ITEM_CHANNELS - 1) / ITEM_CHANNELS;
    qnhwc_step s;
    qnhwc q;
    (void)in_h;
    if (m < 1 || pixels < 1)
        return 0;
    q.m = m, q.k = k, q.mp = (m + LANES - 1) / LANES * LANES, q.k4 = (k + 3) / 4;
    q.in_w = in_w, q.stride = stride, q.out_w = out_w;
    q.x = x, q.w8 = w8, q.w16 = w16, q.folded = folded, q.multipliers = multipliers;
    q.lo = (float)(lo - y_zero), q.hi = (float)(hi - y_zero), q.y_zero = y_zero, q.y = y;
    /* pixel tiles outer: a tile's activations stay in cache across its
     * channel chunks */
    s.q = &q;
    s.item = choose_item();
    s.pixels = pixels;
    s.chunks = chunks;
    return ei_parallel_for((int)(tiles * chunks),
                           ei_threads_for((double)(tiles * chunks),
                                          (double)pixels * m * k / (double)(tiles * chunks)),
                           qnhwc_task, &s);
}
