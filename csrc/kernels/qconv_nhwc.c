#include "qconv_nhwc.h"

#include <math.h>
#include <string.h>

#include "cpu.h"
#include "qconv.h"
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
 * four s8 weights of each of 16 output channels. Six pixels x V vectors
 * (V = 4 covers an item's 64 channels) per pass; pixels past the last repeat
 * it and are not written. */
#define VNNI512_TARGET "avx512f,avx512vl,avx512bw,avx512vnni"

__attribute__((target(VNNI512_TARGET), always_inline)) static inline void
vnni512_pass(const qnhwc *q, long p0, int count, int n0, int channels, int nv)
{
    const __m512 lo = _mm512_set1_ps(q->lo), hi = _mm512_set1_ps(q->hi);
    const __m512i y_zero = _mm512_set1_epi32(q->y_zero);
    const int whole = q->k / 4;
    const uint8_t *px[PASS_PIXELS];
    __m512i acc[PASS_PIXELS][4];
    int r, v, j;
    for (r = 0; r < PASS_PIXELS; r++) {
        px[r] = pixel_at(q, p0 + (r < count ? r : count - 1));
        for (v = 0; v < nv; v++)
            acc[r][v] = _mm512_loadu_si512((const void *)(q->folded + n0 + 16 * v));
    }
    for (j = 0; j < q->k4; j++) {
        const int8_t *wj = q->w8 + ((long)j * q->mp + n0) * 4;
        __m512i w[4];
        for (v = 0; v < nv; v++)
            w[v] = _mm512_loadu_si512((const void *)(wj + 64 * v));
        for (r = 0; r < PASS_PIXELS; r++) {
            int32_t quad;
            __m512i xv;
            if (j < whole)
                memcpy(&quad, px[r] + 4 * j, 4);
            else
                quad = quad_at(px[r], j, q->k);
            xv = _mm512_set1_epi32(quad);
            for (v = 0; v < nv; v++)
                acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], xv, w[v]);
        }
    }
    for (r = 0; r < count; r++) {
        uint8_t *dst = q->y + (p0 + r) * q->m + n0;
        for (v = 0; v < nv; v++) {
            const int left = channels - 16 * v;
            __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][v]),
                                     _mm512_loadu_ps(q->multipliers + n0 + 16 * v));
            __m128i bytes;
            f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
            bytes = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(f), y_zero));
            if (left >= 16)
                _mm_storeu_si128((__m128i *)(dst + 16 * v), bytes);
            else
                _mm_mask_storeu_epi8(dst + 16 * v, (__mmask16)((1u << left) - 1), bytes);
        }
    }
}

__attribute__((target(VNNI512_TARGET))) static void item_vnni512(const qnhwc *q, long p0,
                                                                 int pixels, int n0,
                                                                 int channels)
{
    const int nv = (channels + 15) / 16;
    int p;
    for (p = 0; p < pixels; p += PASS_PIXELS) {
        const int count = pixels - p < PASS_PIXELS ? pixels - p : PASS_PIXELS;
        /* one inlined copy per width, so the accumulators stay in registers */
        if (nv == 4)
            vnni512_pass(q, p0 + p, count, n0, channels, 4);
        else if (nv == 3)
            vnni512_pass(q, p0 + p, count, n0, channels, 3);
        else if (nv == 2)
            vnni512_pass(q, p0 + p, count, n0, channels, 2);
        else
            vnni512_pass(q, p0 + p, count, n0, channels, 1);
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

int ei_qconv1x1_nhwc(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                     const uint8_t *x, const int8_t *w8, const int16_t *w16,
                     const int32_t *folded, const float *multipliers, int y_zero, int lo, int hi,
                     uint8_t *y)
{
    const long pixels = (long)out_h * out_w;
    const long tiles = (pixels + ITEM_PIXELS - 1) / ITEM_PIXELS;
    const int chunks = (m + ITEM_CHANNELS - 1) / ITEM_CHANNELS;
    const item_fn item = choose_item();
    long it;
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
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(ei_get_num_threads()) \
    if (pixels * m * k > 262144)
#endif
    for (it = 0; it < tiles * chunks; it++) {
        const long p0 = it / chunks * ITEM_PIXELS;
        const int n0 = (int)(it % chunks) * ITEM_CHANNELS;
        const int count = pixels - p0 < ITEM_PIXELS ? (int)(pixels - p0) : ITEM_PIXELS;
        item(&q, p0, count, n0, m - n0 < ITEM_CHANNELS ? m - n0 : ITEM_CHANNELS);
    }
    return 0;
}
