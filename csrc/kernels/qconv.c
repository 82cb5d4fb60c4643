#include "qconv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "qconv_nhwc.h"
#include "thread_pool.h"
#include "threads.h"
#include "u8_transpose.h"

#if defined(__ARM_NEON) && !defined(EI_NO_SIMD)
#include <arm_neon.h>
#define QCONV_NEON 1
#endif
#if EI_HAVE_X86_TARGETS && !defined(EI_NO_SIMD)
#include <cpuid.h>
#include <immintrin.h>
#define QCONV_X86 1
#endif

/* Pixels packed at a time: K x 64 x 1 byte of activations stays in cache
 * while every output channel reads it. A multiple of 16. */
#define PIXEL_BLOCK 64

/* Activations are packed as quads: four consecutive input channels of one
 * pixel side by side, the unit a u8 x s8 dot-product instruction takes. The
 * zero point is not subtracted there; it is folded into the bias instead:
 * sum w (x - z) = sum w x - z sum w. */
typedef struct {
    int m, k4;                  /* output channels, quads of input channels */
    const uint8_t *packed;      /* k4 x PIXEL_BLOCK x 4 */
    const int8_t *w8;           /* m x 4 k4, zero padded */
    const int16_t *w16;         /* the same widened, for the 16-bit x86 path */
    const int32_t *bias;        /* m, zero point folded in */
    const float *multiplier;
    float lo, hi;               /* output bounds less the output zero point */
    int y_zero;
} qproblem;

static uint8_t requantize(int32_t acc, float multiplier, float lo, float hi, int y_zero)
{
    float v = (float)acc * multiplier;
    /* clamp first: the bounds are whole numbers, so clamping before or after
     * rounding agrees, and the rounded value then always fits */
    v = v < lo ? lo : (v > hi ? hi : v);
    return (uint8_t)(lrintf(v) + y_zero);  /* to nearest, ties to even */
}

static void rows_portable(const qproblem *q, int m0, int rows, int pb, uint8_t *y, long plane)
{
    int32_t acc[PIXEL_BLOCK];
    int r, j, p;
    for (r = 0; r < rows; r++) {
        int m = m0 + r;
        const int8_t *wm = q->w8 + (long)m * q->k4 * 4;
        for (p = 0; p < PIXEL_BLOCK; p++)
            acc[p] = q->bias[m];
        for (j = 0; j < q->k4; j++) {
            const int32_t w0 = wm[4 * j], w1 = wm[4 * j + 1], w2 = wm[4 * j + 2],
                          w3 = wm[4 * j + 3];
            const uint8_t *xq = q->packed + (long)j * PIXEL_BLOCK * 4;
            for (p = 0; p < PIXEL_BLOCK; p++)
                acc[p] += w0 * xq[4 * p] + w1 * xq[4 * p + 1] + w2 * xq[4 * p + 2] +
                          w3 * xq[4 * p + 3];
        }
        for (p = 0; p < pb; p++)
            y[m * plane + p] = requantize(acc[p], q->multiplier[m], q->lo, q->hi, q->y_zero);
    }
}

#ifdef QCONV_X86
/* Eight requantised pixels of row m from their int32 sums. */
#define QCONV_WRITE8(ACC, M, DST, COUNT)                                                     \
    do {                                                                                     \
        __m256 f_ = _mm256_mul_ps(_mm256_cvtepi32_ps(ACC), _mm256_set1_ps(q->multiplier[M])); \
        __m256i i_;                                                                          \
        __m128i w_;                                                                          \
        f_ = _mm256_min_ps(_mm256_max_ps(f_, _mm256_set1_ps(q->lo)), _mm256_set1_ps(q->hi)); \
        i_ = _mm256_add_epi32(_mm256_cvtps_epi32(f_), _mm256_set1_epi32(q->y_zero));        \
        w_ = _mm_packs_epi32(_mm256_castsi256_si128(i_), _mm256_extracti128_si256(i_, 1));   \
        w_ = _mm_packus_epi16(w_, w_);                                                       \
        if ((COUNT) >= 8) {                                                                  \
            _mm_storel_epi64((__m128i *)(DST), w_);                                          \
        } else {                                                                             \
            uint8_t t_[16];                                                                  \
            _mm_storeu_si128((__m128i *)t_, w_);                                             \
            memcpy((DST), t_, (size_t)(COUNT));                                              \
        }                                                                                    \
    } while (0)

/* AVX2 without VNNI: u8 widened to 16 bits, vpmaddwd with the weights as
 * 16 bits: exact (vpmaddubsw's 16-bit pair sums would saturate at 255 x -128
 * x 2). The pair sums of each pixel stay apart until the end. */
__attribute__((target("avx2,fma"))) static void rows_avx2(const qproblem *q, int m0, int rows,
                                                          int pb, uint8_t *y, long plane)
{
    int g, j, r;
    for (g = 0; g < PIXEL_BLOCK; g += 8) {
        int count = pb - g;
        if (count <= 0)
            break;
        for (r = 0; r < rows; r += 4) {
            int n = rows - r < 4 ? rows - r : 4, i;
            __m256i lo[4], hi[4];
            for (i = 0; i < 4; i++)
                lo[i] = hi[i] = _mm256_setzero_si256();
            for (j = 0; j < q->k4; j++) {
                __m256i x = _mm256_loadu_si256(
                    (const __m256i *)(q->packed + ((long)j * PIXEL_BLOCK + g) * 4));
                __m256i xl = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(x));
                __m256i xh = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(x, 1));
                for (i = 0; i < n; i++) {
                    long long wq;
                    __m256i w;
                    memcpy(&wq, q->w16 + ((long)(m0 + r + i) * q->k4 + j) * 4, 8);
                    w = _mm256_set1_epi64x(wq);
                    lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(xl, w));
                    hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(xh, w));
                }
            }
            for (i = 0; i < n; i++) {
                int m = m0 + r + i;
                /* lanes hold p0 p1 p4 p5 | p2 p3 p6 p7 after the pairwise add */
                __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo[i], hi[i]), 0xD8);
                s = _mm256_add_epi32(s, _mm256_set1_epi32(q->bias[m]));
                QCONV_WRITE8(s, m, y + m * plane + g, count);
            }
        }
    }
}

/* VNNI: one vpdpbusd is 32 u8 x s8 products summed four by four into int32,
 * exactly. Four rows x sixteen pixels per pass. */
#define QCONV_ROWS_VNNI(NAME, TARGET, DPBUSD)                                                \
    __attribute__((target(TARGET))) static void NAME(const qproblem *q, int m0, int rows,    \
                                                     int pb, uint8_t *y, long plane)         \
    {                                                                                        \
        int g, j, r, i;                                                                      \
        for (g = 0; g < PIXEL_BLOCK; g += 16) {                                              \
            if (pb - g <= 0)                                                                 \
                break;                                                                       \
            for (r = 0; r < rows; r += 4) {                                                  \
                int n = rows - r < 4 ? rows - r : 4;                                         \
                __m256i a[4], b[4];                                                          \
                for (i = 0; i < 4; i++) {                                                    \
                    a[i] = _mm256_set1_epi32(i < n ? q->bias[m0 + r + i] : 0);               \
                    b[i] = a[i];                                                             \
                }                                                                            \
                if (n == 4) {                                                                \
                    /* named accumulators: kept in registers, four chains per load */        \
                    const int32_t *w0 = (const int32_t *)(q->w8 + (long)(m0 + r) * q->k4 * 4); \
                    const int32_t *w1 = w0 + q->k4, *w2 = w1 + q->k4, *w3 = w2 + q->k4;      \
                    __m256i a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];                      \
                    __m256i b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];                      \
                    for (j = 0; j < q->k4; j++) {                                            \
                        const uint8_t *xp = q->packed + ((long)j * PIXEL_BLOCK + g) * 4;     \
                        __m256i x0 = _mm256_loadu_si256((const __m256i *)xp);                \
                        __m256i x1 = _mm256_loadu_si256((const __m256i *)(xp + 32));         \
                        __m256i v;                                                           \
                        v = _mm256_set1_epi32(w0[j]), a0 = DPBUSD(a0, x0, v), b0 = DPBUSD(b0, x1, v); \
                        v = _mm256_set1_epi32(w1[j]), a1 = DPBUSD(a1, x0, v), b1 = DPBUSD(b1, x1, v); \
                        v = _mm256_set1_epi32(w2[j]), a2 = DPBUSD(a2, x0, v), b2 = DPBUSD(b2, x1, v); \
                        v = _mm256_set1_epi32(w3[j]), a3 = DPBUSD(a3, x0, v), b3 = DPBUSD(b3, x1, v); \
                    }                                                                        \
                    a[0] = a0, a[1] = a1, a[2] = a2, a[3] = a3;                              \
                    b[0] = b0, b[1] = b1, b[2] = b2, b[3] = b3;                              \
                } else                                                                       \
                for (j = 0; j < q->k4; j++) {                                                \
                    const uint8_t *xp = q->packed + ((long)j * PIXEL_BLOCK + g) * 4;         \
                    __m256i x0 = _mm256_loadu_si256((const __m256i *)xp);                    \
                    __m256i x1 = _mm256_loadu_si256((const __m256i *)(xp + 32));             \
                    for (i = 0; i < n; i++) {                                                \
                        int32_t wq;                                                          \
                        __m256i w;                                                           \
                        memcpy(&wq, q->w8 + ((long)(m0 + r + i) * q->k4 + j) * 4, 4);        \
                        w = _mm256_set1_epi32(wq);                                           \
                        a[i] = DPBUSD(a[i], x0, w);                                          \
                        b[i] = DPBUSD(b[i], x1, w);                                          \
                    }                                                                        \
                }                                                                            \
                for (i = 0; i < n; i++) {                                                    \
                    int m = m0 + r + i;                                                      \
                    QCONV_WRITE8(a[i], m, y + m * plane + g, pb - g);                        \
                    if (pb - g > 8)                                                          \
                        QCONV_WRITE8(b[i], m, y + m * plane + g + 8, pb - g - 8);            \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    }

QCONV_ROWS_VNNI(rows_avx_vnni, "avx2,fma,avxvnni", _mm256_dpbusd_avx_epi32)

/* AVX-512 VNNI: 6 rows x p vectors of 16 pixels per pass (p = 4 covers a
 * whole block), 24 accumulators of the 32 registers; a short block (49
 * pixels of a 7x7 map) takes only the vectors it has. Rows past the last
 * repeat it, and are not written, so every pass is a full one. */
#define VNNI512_ROWS 6
#define VNNI512_TARGET "avx512f,avx512vl,avx512bw,avx512vnni"

__attribute__((target(VNNI512_TARGET), always_inline)) static inline void
vnni512_pass(const qproblem *q, int m0, int n, int p, int count, uint8_t *y, long plane)
{
    const __m512 lo = _mm512_set1_ps(q->lo), hi = _mm512_set1_ps(q->hi);
    const __m512i y_zero = _mm512_set1_epi32(q->y_zero);
    __m512i acc[VNNI512_ROWS][4];
    const int32_t *w[VNNI512_ROWS];
    int i, v, j;
    for (i = 0; i < VNNI512_ROWS; i++) {
        const int m = m0 + (i < n ? i : n - 1);
        w[i] = (const int32_t *)(q->w8 + (long)m * q->k4 * 4);
        for (v = 0; v < p; v++)
            acc[i][v] = _mm512_set1_epi32(q->bias[m]);
    }
    for (j = 0; j < q->k4; j++) {
        const uint8_t *xp = q->packed + (long)j * PIXEL_BLOCK * 4;
        __m512i x[4];
        for (v = 0; v < p; v++)
            x[v] = _mm512_loadu_si512((const void *)(xp + 64 * v));
        for (i = 0; i < VNNI512_ROWS; i++) {
            const __m512i wv = _mm512_set1_epi32(w[i][j]);
            for (v = 0; v < p; v++)
                acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], x[v], wv);
        }
    }
    for (i = 0; i < n; i++) {
        const __m512 multiplier = _mm512_set1_ps(q->multiplier[m0 + i]);
        for (v = 0; v < p && 16 * v < count; v++) {
            const int left = count - 16 * v;
            uint8_t *dst = y + (long)(m0 + i) * plane + 16 * v;
            __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[i][v]), multiplier);
            __m128i bytes;
            f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
            /* ties to even (MXCSR's rounding); in 0..255 after the clamp */
            bytes = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(f), y_zero));
            if (left >= 16)
                _mm_storeu_si128((__m128i *)dst, bytes);
            else
                _mm_mask_storeu_epi8(dst, (__mmask16)((1u << left) - 1), bytes);
        }
    }
}

__attribute__((target(VNNI512_TARGET))) static void rows_avx512_vnni(const qproblem *q, int m0,
                                                                      int rows, int pb,
                                                                      uint8_t *y, long plane)
{
    const int p = (pb + 15) / 16;
    int r;
    for (r = 0; r < rows; r += VNNI512_ROWS) {
        const int n = rows - r < VNNI512_ROWS ? rows - r : VNNI512_ROWS;
        /* one inlined copy per width, so the accumulators stay in registers */
        if (p == 4)
            vnni512_pass(q, m0 + r, n, 4, pb, y, plane);
        else if (p == 3)
            vnni512_pass(q, m0 + r, n, 3, pb, y, plane);
        else if (p == 2)
            vnni512_pass(q, m0 + r, n, 2, pb, y, plane);
        else
            vnni512_pass(q, m0 + r, n, 1, pb, y, plane);
    }
}
#endif

#ifdef QCONV_NEON
/* NEON (aarch64 and armv7): u8 widened to 16 bits, vmlal_s16 with the four
 * weights of a quad; each pixel's four lanes are summed at the end. */
static int32_t sum_lanes(int32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

static void rows_neon(const qproblem *q, int m0, int rows, int pb, uint8_t *y, long plane)
{
    int g, j, r, i;
    for (r = 0; r < rows; r++) {
        int m = m0 + r;
        const int16_t *wm = q->w16 + (long)m * q->k4 * 4;
        for (g = 0; g < pb; g += 4) {
            int32x4_t acc[4];
            for (i = 0; i < 4; i++)
                acc[i] = vdupq_n_s32(0);
            for (j = 0; j < q->k4; j++) {
                uint8x16_t x = vld1q_u8(q->packed + ((long)j * PIXEL_BLOCK + g) * 4);
                int16x8_t x01 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(x)));
                int16x8_t x23 = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(x)));
                int16x4_t w = vld1_s16(wm + 4 * j);
                acc[0] = vmlal_s16(acc[0], vget_low_s16(x01), w);
                acc[1] = vmlal_s16(acc[1], vget_high_s16(x01), w);
                acc[2] = vmlal_s16(acc[2], vget_low_s16(x23), w);
                acc[3] = vmlal_s16(acc[3], vget_high_s16(x23), w);
            }
            for (i = 0; i < 4 && g + i < pb; i++)
                y[m * plane + g + i] = requantize(q->bias[m] + sum_lanes(acc[i]),
                                                  q->multiplier[m], q->lo, q->hi, q->y_zero);
        }
    }
}
#endif

/* Four channel rows of n pixels side by side as quads: dst[4 p + c] = src_c[p]. */
static void interleave4(uint8_t *dst, const uint8_t *s0, const uint8_t *s1, const uint8_t *s2,
                        const uint8_t *s3, int n)
{
    int p = 0;
#if defined(QCONV_NEON)
    for (; p + 16 <= n; p += 16) {
        uint8x16x4_t v;
        v.val[0] = vld1q_u8(s0 + p), v.val[1] = vld1q_u8(s1 + p);
        v.val[2] = vld1q_u8(s2 + p), v.val[3] = vld1q_u8(s3 + p);
        vst4q_u8(dst + 4 * p, v);
    }
#elif defined(QCONV_X86) && defined(__SSE2__)
    for (; p + 16 <= n; p += 16) {
        __m128i c0 = _mm_loadu_si128((const __m128i *)(s0 + p));
        __m128i c1 = _mm_loadu_si128((const __m128i *)(s1 + p));
        __m128i c2 = _mm_loadu_si128((const __m128i *)(s2 + p));
        __m128i c3 = _mm_loadu_si128((const __m128i *)(s3 + p));
        __m128i lo01 = _mm_unpacklo_epi8(c0, c1), hi01 = _mm_unpackhi_epi8(c0, c1);
        __m128i lo23 = _mm_unpacklo_epi8(c2, c3), hi23 = _mm_unpackhi_epi8(c2, c3);
        _mm_storeu_si128((__m128i *)(dst + 4 * p), _mm_unpacklo_epi16(lo01, lo23));
        _mm_storeu_si128((__m128i *)(dst + 4 * p + 16), _mm_unpackhi_epi16(lo01, lo23));
        _mm_storeu_si128((__m128i *)(dst + 4 * p + 32), _mm_unpacklo_epi16(hi01, hi23));
        _mm_storeu_si128((__m128i *)(dst + 4 * p + 48), _mm_unpackhi_epi16(hi01, hi23));
    }
#endif
    for (; p < n; p++) {
        dst[4 * p] = s0[p], dst[4 * p + 1] = s1[p];
        dst[4 * p + 2] = s2[p], dst[4 * p + 3] = s3[p];
    }
}

/* Pixels p0 .. p0+pb of the output, their input channels as quads; the
 * rest of the block is zero. */
static void pack_block(uint8_t *packed, const uint8_t *x, int k, int k4, int in_h, int in_w,
                       int stride, int out_w, long p0, int pb)
{
    long plane = (long)in_h * in_w;
    int offsets[PIXEL_BLOCK];
    int j, c, p, contiguous;
    for (p = 0; p < pb; p++) {
        long o = p0 + p;
        offsets[p] = (int)((o / out_w) * stride * in_w + (o % out_w) * stride);
    }
    /* with stride 1 the output pixels are the input's, in order */
    contiguous = stride == 1 && out_w == in_w;
    if (pb < PIXEL_BLOCK || k % 4)
        memset(packed, 0, (size_t)k4 * PIXEL_BLOCK * 4);
    for (j = 0; j < k4; j++) {
        uint8_t *dst = packed + (long)j * PIXEL_BLOCK * 4;
        if (contiguous && 4 * j + 3 < k) {
            /* a contiguous run of four planes */
            const uint8_t *src = x + 4L * j * plane + p0;
            interleave4(dst, src, src + plane, src + 2 * plane, src + 3 * plane, pb);
            continue;
        }
        for (c = 0; c < 4 && 4 * j + c < k; c++) {
            const uint8_t *src = x + (4L * j + c) * plane;
            if (contiguous) {
                src += p0;
                for (p = 0; p < pb; p++)
                    dst[4 * p + c] = src[p];
            } else {
                for (p = 0; p < pb; p++)
                    dst[4 * p + c] = src[offsets[p]];
            }
        }
    }
}

static int vnni_choice = -1; /* -1 the best there is; 0 none; 1 AVX-VNNI; 2 AVX-512 VNNI */

static int vnni_supported(int mode)
{
#ifdef QCONV_X86
    __builtin_cpu_init();
    if (mode == 1) {
        /* CPUID leaf 7.1 EAX bit 4; read directly, as not every compiler's
         * __builtin_cpu_supports knows the name. Its ymm state is AVX2's. */
        unsigned a, b, c, d;
        return __builtin_cpu_supports("avx2") && __get_cpuid_count(7, 1, &a, &b, &c, &d) &&
               (a >> 4 & 1);
    }
    if (mode == 2)
        return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw");
#endif
    return mode == 0;
}

int ei_qconv_vnni(int mode)
{
    if (mode >= 0 && !vnni_supported(mode))
        return -1;
    vnni_choice = mode;
    return 0;
}

typedef void (*rows_fn)(const qproblem *, int, int, int, uint8_t *, long);

int ei_qconv_vnni_in_use(void)
{
#ifdef QCONV_X86
    ei_simd_level level = ei_simd_active();
    if (level == EI_SIMD_AVX2 || level == EI_SIMD_AVX512) {
        int mode = vnni_choice;
        if (mode < 0)
            mode = vnni_supported(2) && level == EI_SIMD_AVX512 ? 2 : vnni_supported(1) ? 1 : 0;
        return mode == 2 && level != EI_SIMD_AVX512 ? 0 : mode;
    }
#endif
    return 0;
}

static rows_fn choose_rows(void)
{
#ifdef QCONV_X86
    ei_simd_level level = ei_simd_active();
    if (level == EI_SIMD_AVX2 || level == EI_SIMD_AVX512) {
        int mode = ei_qconv_vnni_in_use();
        if (mode == 2)
            return rows_avx512_vnni;
        if (mode == 1)
            return rows_avx_vnni;
        return rows_avx2;
    }
#endif
#ifdef QCONV_NEON
    if (ei_simd_active() == EI_SIMD_NEON)
        return rows_neon;
#endif
    return rows_portable;
}

void ei_qconv1x1_pack(int m, int k, const int8_t *w, const int32_t *bias, int x_zero, int8_t *w8,
                      int16_t *w16, int32_t *folded)
{
    int k4 = (k + 3) / 4, i, c;
    memset(w8, 0, (size_t)m * k4 * 4);
    memset(w16, 0, (size_t)m * k4 * 4 * sizeof *w16);
    for (i = 0; i < m; i++) {
        int32_t sum = 0;
        for (c = 0; c < k; c++) {
            w8[(long)i * k4 * 4 + c] = w[(long)i * k + c];
            w16[(long)i * k4 * 4 + c] = w[(long)i * k + c];
            sum += w[(long)i * k + c];
        }
        folded[i] = (bias != NULL ? bias[i] : 0) - x_zero * sum;
    }
}

static int forced_layout = 0;

int ei_qconv_force_layout(int layout)
{
    if (layout < 0 || layout > 1)
        return -1;
    forced_layout = layout;
    return 0;
}

/* ei_qconv1x1 through the channels-last kernel, the planes transposed in and
 * out: the forced layout 1, so tests and the cross builds reach qconv_nhwc.c
 * through this function's arguments. */
static int through_nhwc(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                        const uint8_t *x, int x_zero, const int8_t *w, const int32_t *bias,
                        const float *multiplier, int y_zero, int lo, int hi, uint8_t *y)
{
    const int mp = (m + EI_QCONV_NHWC_LANES - 1) / EI_QCONV_NHWC_LANES * EI_QCONV_NHWC_LANES;
    const int k4 = (k + 3) / 4;
    const long in_plane = (long)in_h * in_w, out_plane = (long)out_h * out_w;
    uint8_t *xt = malloc((size_t)k * in_plane), *yt = malloc((size_t)m * out_plane);
    int8_t *w8 = malloc((size_t)k4 * mp * 4);
    int16_t *w16 = malloc((size_t)k4 * mp * 4 * sizeof *w16);
    int32_t *folded = malloc((size_t)mp * sizeof *folded);
    float *multipliers = malloc((size_t)mp * sizeof *multipliers);
    int status = -1;
    if (xt != NULL && yt != NULL && w8 != NULL && w16 != NULL && folded != NULL &&
        multipliers != NULL) {
        ei_u8_transpose(k, in_plane, x, xt);
        ei_qconv1x1_nhwc_pack(m, k, w, bias, x_zero, multiplier, w8, w16, folded, multipliers);
        status = ei_qconv1x1_nhwc(m, k, in_h, in_w, stride, out_h, out_w, xt, w8, w16, folded,
                                  multipliers, y_zero, lo, hi, yt);
        ei_u8_transpose(out_plane, m, yt, y);
    }
    free(xt), free(yt), free(w8), free(w16), free(folded), free(multipliers);
    return status;
}

int ei_qconv1x1(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                const uint8_t *x, int x_zero, const int8_t *w, const int32_t *bias,
                const float *multiplier, int y_zero, int lo, int hi, uint8_t *y)
{
    int k4 = (k + 3) / 4, status;
    int8_t *w8;
    if (forced_layout == 1)
        return through_nhwc(m, k, in_h, in_w, stride, out_h, out_w, x, x_zero, w, bias,
                            multiplier, y_zero, lo, hi, y);
    w8 = malloc((size_t)m * k4 * 4);
    int16_t *w16 = malloc((size_t)m * k4 * 4 * sizeof *w16);
    int32_t *folded = malloc((size_t)m * sizeof *folded);
    if (w8 == NULL || w16 == NULL || folded == NULL) {
        free(w8), free(w16), free(folded);
        return -1;
    }
    ei_qconv1x1_pack(m, k, w, bias, x_zero, w8, w16, folded);
    status = ei_qconv1x1_packed(m, k, in_h, in_w, stride, out_h, out_w, x, w8, w16, folded,
                                multiplier, y_zero, lo, hi, y);
    free(w8), free(w16), free(folded);
    return status;
}

/* A 1x1 step's arguments, as its tasks read them, and each thread's block
 * of packed pixels (allocated the first time the thread takes a task). */
typedef struct {
    qproblem q;
    rows_fn rows;
    const uint8_t *x;
    uint8_t *y;
    int m, k, in_h, in_w, stride, out_w, groups, per_group;
    long pixels;
    uint8_t *packed[EI_MAX_THREADS];
    long packed_block[EI_MAX_THREADS]; /* the block packed[thread] holds */
} qconv1x1_step;

/* One block of pixels for one group of output channels. */
static int qconv1x1_task(void *ctx, int item, int thread)
{
    qconv1x1_step *s = (qconv1x1_step *)ctx;
    const long b = item / s->groups, p0 = b * PIXEL_BLOCK;
    const int m0 = (int)(item % s->groups) * s->per_group;
    const int pb = s->pixels - p0 < PIXEL_BLOCK ? (int)(s->pixels - p0) : PIXEL_BLOCK;
    const int k4 = (s->k + 3) / 4;
    qproblem mine = s->q;
    if (s->packed[thread] == NULL) {
        s->packed[thread] = malloc((size_t)k4 * PIXEL_BLOCK * 4);
        if (s->packed[thread] == NULL)
            return -1;
        s->packed_block[thread] = -1;
    }
    mine.packed = s->packed[thread];
    if (s->packed_block[thread] != b) {
        pack_block(s->packed[thread], s->x, s->k, k4, s->in_h, s->in_w, s->stride, s->out_w, p0, pb);
        s->packed_block[thread] = b;
    }
    s->rows(&mine, m0, s->m - m0 < s->per_group ? s->m - m0 : s->per_group, pb, s->y + p0,
            s->pixels);
    return 0;
}

int ei_qconv1x1_packed(int m, int k, int in_h, int in_w, int stride, int out_h, int out_w,
                       const uint8_t *x, const int8_t *w8, const int16_t *w16,
                       const int32_t *folded, const float *multiplier, int y_zero, int lo, int hi,
                       uint8_t *y)
{
    int k4 = (k + 3) / 4, threads = ei_get_num_threads(), groups = 1, per_group, status, t;
    long pixels = (long)out_h * out_w, blocks = (pixels + PIXEL_BLOCK - 1) / PIXEL_BLOCK, items;
    qconv1x1_step s;
    qproblem q;
    q.m = m, q.k4 = k4, q.w8 = w8, q.w16 = w16, q.bias = folded, q.multiplier = multiplier;
    q.lo = (float)(lo - y_zero), q.hi = (float)(hi - y_zero), q.y_zero = y_zero;
    q.packed = NULL;
    if (m < 1 || pixels < 1)
        return 0; /* nothing to write */
    /* A small map has too few pixel blocks to share (a 7x7 map is one): its
     * output channels are split too, about two items per thread, in groups of
     * 12 rows (whole passes of both the 4- and the 6-row kernels). */
    if (threads > 1 && blocks < 2L * threads)
        groups = (int)((2L * threads + blocks - 1) / blocks);
    per_group = ((m + groups - 1) / groups + 11) / 12 * 12;
    groups = (m + per_group - 1) / per_group;
    items = blocks * groups;
    s.q = q;
    s.rows = choose_rows();
    s.x = x;
    s.y = y;
    s.m = m;
    s.k = k;
    s.in_h = in_h;
    s.in_w = in_w;
    s.stride = stride;
    s.out_w = out_w;
    s.groups = groups;
    s.per_group = per_group;
    s.pixels = pixels;
    memset(s.packed, 0, sizeof s.packed);
    status = ei_parallel_for((int)items,
                             ei_threads_for((double)items, (double)pixels * m * k / items),
                             qconv1x1_task, &s);
    for (t = 0; t < EI_MAX_THREADS; t++)
        free(s.packed[t]);
    return status < 0 ? -1 : 0;
}
