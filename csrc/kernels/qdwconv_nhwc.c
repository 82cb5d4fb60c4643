#include "qdwconv_nhwc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qdwconv.h"
#include "scratch.h"
#include "thread_pool.h"
#include "threads.h"

#if EI_HAVE_X86_TARGETS && !defined(EI_NO_SIMD)
#include <immintrin.h>
#define NHWC_X86 1
#endif

/* Integer sums, as int8 depthwise kernels in the field take them: the input
 * less its zero point is int16 (-255..255), a weight int8, and two taps of a
 * row side by side are one multiply-add of int16 pairs into int32 (SSE2's
 * pmaddwd at 128, 256 and 512 bits): |a b + c d| <= 2 x 255 x 128, and the
 * whole sum of at most EI_QDWCONV_MAX_TAPS taps stays far inside int32.
 *
 * A block of BLOCK channels of a band of output rows is convolved from one
 * tile: per padded input row, per column p, the channels at columns p and
 * p + 1 interleaved (lane 2k + h: channel k at column p + h), so the taps
 * (i, 2q) and (i, 2q + 1) of output pixel ox are one vector at column
 * ox * stride + 2q, against a vector of the two weights per channel (the
 * second 0 past an odd kw). An even stride starts its pairs at even columns
 * only: the tile keeps those alone. */
#define BLOCK 16
#define PAIR (2 * BLOCK)   /* int16 per tile column */
/* Output pixels convolved at once (their sums in registers), and so the
 * most a row's last group reaches past it: the tile is that much wider. */
#define GROUP 8

typedef struct {
    int kh, kw, stride, pairs; /* pairs: (kw + 1) / 2 columns of taps */
    int out_w, out_h;          /* out_h: the band's rows */
    int span;                  /* padded input columns read, the last group's reach included */
    int spread;                /* 2 for an even stride, whose taps read even columns only */
    int cols;                  /* tile columns: those of the span a tap pair starts at */
    int col_step, pair_step;   /* tile columns from one output pixel, one tap pair, to the next */
    int c, n;                  /* channels of a pixel, and of this block (<= BLOCK) */
    int pad_left;              /* padded column p is input column p - pad_left */
    float lo, hi;              /* the output bounds less its zero point */
    int y_zero;
} nhwc_geometry;

/* One block's weights and requantisation, pointers into the packed form
 * (ei_qdwconv_nhwc_pack): w, kh x pairs vectors of PAIR int16 (lane 2k + h:
 * channel k's weight at tap (i, 2q + h)); spare lanes 0. */
typedef struct {
    const int32_t *bias;
    const float *multiplier;
    const int16_t *w;
} nhwc_lanes;

/* A packed block: BLOCK int32 biases, BLOCK float multipliers (each 2 BLOCK
 * int16 of room), then the weights. */
#define HEAD_WORDS (4 * BLOCK)

long ei_qdwconv_nhwc_packed_words(int c, int kh, int kw)
{
    return (long)(c + BLOCK - 1) / BLOCK * (HEAD_WORDS + (long)kh * ((kw + 1) / 2) * PAIR);
}

void ei_qdwconv_nhwc_pack(int c, int kh, int kw, const int8_t *w, const int32_t *bias,
                          const float *multiplier, int16_t *packed)
{
    const int pairs = (kw + 1) / 2, taps = kh * kw;
    const long block_words = HEAD_WORDS + (long)kh * pairs * PAIR;
    int c0, k, i, q, h;
    memset(packed, 0, sizeof *packed * (size_t)ei_qdwconv_nhwc_packed_words(c, kh, kw));
    for (c0 = 0; c0 < c; c0 += BLOCK) {
        int16_t *block = packed + c0 / BLOCK * block_words, *wb = block + HEAD_WORDS;
        int32_t biases[BLOCK] = {0};
        float multipliers[BLOCK] = {0.0f};
        for (k = 0; k < BLOCK && c0 + k < c; k++) {
            const int8_t *wc = w + (long)(c0 + k) * taps;
            biases[k] = bias != NULL ? bias[c0 + k] : 0;
            multipliers[k] = multiplier[c0 + k];
            for (i = 0; i < kh; i++)
                for (q = 0; q < pairs; q++)
                    for (h = 0; h < 2 && 2 * q + h < kw; h++)
                        wb[(i * pairs + q) * PAIR + 2 * k + h] = wc[i * kw + 2 * q + h];
        }
        memcpy(block, biases, sizeof biases);
        memcpy(block + 2 * BLOCK, multipliers, sizeof multipliers);
    }
}

/* A unit's two steps: one tile row from an input row (x: its first pixel's
 * block of channels; NULL outside the input, all zero), the tile columns
 * [first, end) of the padded row inside it; and one band of output rows from the tile. `line`
 * is scratch for cols + 1 pixels of BLOCK int16. */
typedef void (*fill_fn)(const nhwc_geometry *, int16_t *row, int16_t *line, const uint8_t *x,
                        int first, int end, int x_zero);
typedef void (*band_fn)(const nhwc_geometry *, const int16_t *tile, const nhwc_lanes *,
                        uint8_t *y);

/* The input row's pixels at padded columns [first, end) (the rest 0) into
 * `line` less the zero point, portably. */
static void widen_line(const nhwc_geometry *g, int16_t *line, const uint8_t *x, int first,
                       int end, int x_zero)
{
    int p, k;
    memset(line, 0, sizeof *line * (size_t)(g->span + 1) * BLOCK);
    for (p = first; p < end; p++)
        for (k = 0; k < g->n; k++)
            line[p * BLOCK + k] = (int16_t)(x[(long)(p - g->pad_left) * g->c + k] - x_zero);
}

static void fill_portable(const nhwc_geometry *g, int16_t *row, int16_t *line, const uint8_t *x,
                          int first, int end, int x_zero)
{
    int p, k;
    if (x == NULL) {
        memset(row, 0, sizeof *row * (size_t)g->cols * PAIR);
        return;
    }
    widen_line(g, line, x, first, end, x_zero);
    for (p = 0; p < g->cols; p++)
        for (k = 0; k < BLOCK; k++) {
            row[p * PAIR + 2 * k] = line[p * g->spread * BLOCK + k];
            row[p * PAIR + 2 * k + 1] = line[(p * g->spread + 1) * BLOCK + k];
        }
}

static uint8_t requantize(int32_t sum, float multiplier, const nhwc_geometry *g)
{
    float v = (float)sum * multiplier;
    /* the bounds are whole numbers: clamping before rounding agrees with after */
    v = v < g->lo ? g->lo : (v > g->hi ? g->hi : v);
    return (uint8_t)(lrintf(v) + g->y_zero);   /* to nearest, ties to even */
}

static void band_portable(const nhwc_geometry *g, const int16_t *tile, const nhwc_lanes *l,
                          uint8_t *y)
{
    const long row = (long)g->cols * PAIR;
    int oy, ox, i, q, k;
    for (oy = 0; oy < g->out_h; oy++)
        for (ox = 0; ox < g->out_w; ox++) {
            uint8_t *dst = y + ((long)oy * g->out_w + ox) * g->c;
            for (k = 0; k < g->n; k++) {
                int32_t sum = l->bias[k];
                for (i = 0; i < g->kh; i++)
                    for (q = 0; q < g->pairs; q++) {
                        const int16_t *a = tile + (oy * g->stride + i) * row +
                                           ((long)ox * g->col_step + q * g->pair_step) * PAIR +
                                           2 * k;
                        const int16_t *b = l->w + (i * g->pairs + q) * PAIR + 2 * k;
                        sum += a[0] * b[0] + a[1] * b[1];
                    }
                dst[k] = requantize(sum, l->multiplier[k], g);
            }
        }
}

#ifdef NHWC_X86
/* Padded column col of a full block's row as 16 int16 less the zero point. */
#define AVX2_PIXEL(col)                                                                      \
    ((col) >= first && (col) < end                                                           \
         ? _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(                            \
                                (const __m128i *)(x + (long)((col) - g->pad_left) * g->c))), \
                            zero)                                                            \
         : _mm256_setzero_si256())

__attribute__((target("avx2"))) static void fill_avx2(const nhwc_geometry *g, int16_t *row,
                                                      int16_t *line, const uint8_t *x,
                                                      int first, int end, int x_zero)
{
    const __m256i zero = _mm256_set1_epi16((short)x_zero);
    int p;
    if (x == NULL) {
        memset(row, 0, sizeof *row * (size_t)g->cols * PAIR);
        return;
    }
    if (g->n < BLOCK)
        widen_line(g, line, x, first, end, x_zero);
    for (p = 0; p < g->cols; p++) {
        const int col = p * g->spread;
        const int16_t *at = line + col * BLOCK;
        /* a full block's pixels widened straight from the input, 0 outside it */
        const __m256i a = g->n < BLOCK ? _mm256_loadu_si256((const __m256i *)at)
                                       : AVX2_PIXEL(col);
        const __m256i b = g->n < BLOCK ? _mm256_loadu_si256((const __m256i *)(at + BLOCK))
                                       : AVX2_PIXEL(col + 1);
        /* per 128-bit half: channels 0-3 | 8-11 and 4-7 | 12-15 interleaved */
        const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
        _mm256_storeu_si256((__m256i *)(row + p * PAIR), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(row + p * PAIR + BLOCK),
                            _mm256_permute2x128_si256(lo, hi, 0x31));
    }
}

/* Eight int32 sums to float32 times the multipliers, clamped, rounded to
 * nearest even (MXCSR's rounding), plus the output zero point. */
__attribute__((target("avx2"))) static __m256i requantize8(__m256i sum, const float *multiplier,
                                                           const nhwc_geometry *g)
{
    __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), _mm256_loadu_ps(multiplier));
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(g->lo)), _mm256_set1_ps(g->hi));
    return _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(g->y_zero));
}

/* The n bytes of a pixel's channels: all 16, or a partial block's first n. */
__attribute__((target("avx2"))) static void store_pixel(uint8_t *dst, __m128i bytes, int n)
{
    if (n == BLOCK) {
        _mm_storeu_si128((__m128i *)dst, bytes);
    } else {
        uint8_t tmp[BLOCK];
        _mm_storeu_si128((__m128i *)tmp, bytes);
        memcpy(dst, tmp, (size_t)n);
    }
}

/* Four pixels at a time, each two vectors of eight channels' int32 sums. */
#define AVX2_PIX 4
__attribute__((target("avx2"))) static void band_avx2(const nhwc_geometry *g,
                                                      const int16_t *tile, const nhwc_lanes *l,
                                                      uint8_t *y)
{
    const long row = (long)g->cols * PAIR, step = (long)g->col_step * PAIR;
    const __m256i bias0 = _mm256_loadu_si256((const __m256i *)l->bias);
    const __m256i bias1 = _mm256_loadu_si256((const __m256i *)(l->bias + 8));
    int oy, ox, i, q, p;
    for (oy = 0; oy < g->out_h; oy++)
        for (ox = 0; ox < g->out_w; ox += AVX2_PIX) {
            const int16_t *origin = tile + (long)oy * g->stride * row + (long)ox * step;
            __m256i a[AVX2_PIX], b[AVX2_PIX];
            for (p = 0; p < AVX2_PIX; p++)
                a[p] = bias0, b[p] = bias1;
            for (i = 0; i < g->kh; i++)
                for (q = 0; q < g->pairs; q++) {
                    const int16_t *src = origin + i * row + (long)q * g->pair_step * PAIR;
                    const int16_t *wt = l->w + (i * g->pairs + q) * PAIR;
                    const __m256i w0 = _mm256_loadu_si256((const __m256i *)wt);
                    const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wt + BLOCK));
                    for (p = 0; p < AVX2_PIX; p++) {
                        const int16_t *at = src + p * step;
                        a[p] = _mm256_add_epi32(a[p], _mm256_madd_epi16(
                                                          _mm256_loadu_si256((const __m256i *)at), w0));
                        b[p] = _mm256_add_epi32(b[p], _mm256_madd_epi16(_mm256_loadu_si256(
                                                          (const __m256i *)(at + BLOCK)), w1));
                    }
                }
            for (p = 0; p < AVX2_PIX && ox + p < g->out_w; p++) {
                /* packs interleaves by 128-bit half: 0-3 8-11 | 4-7 12-15, put back */
                const __m256i words = _mm256_permute4x64_epi64(
                    _mm256_packs_epi32(requantize8(a[p], l->multiplier, g),
                                       requantize8(b[p], l->multiplier + 8, g)), 0xD8);
                store_pixel(y + ((long)oy * g->out_w + ox + p) * g->c,
                            _mm_packus_epi16(_mm256_castsi256_si128(words),
                                             _mm256_extracti128_si256(words, 1)), g->n);
            }
        }
}

#define AVX512_TARGET "avx512f,avx512bw,avx512vl"
__attribute__((target(AVX512_TARGET))) static void fill_avx512(const nhwc_geometry *g,
                                                               int16_t *row, int16_t *line,
                                                               const uint8_t *x, int first,
                                                               int end, int x_zero)
{
    const __m256i zero = _mm256_set1_epi16((short)x_zero);
    /* lane 2k + h of a column: word k of pixel p + h (words 0-15 and 16-31) */
    const __m512i zip = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9,
                                         24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17,
                                         1, 16, 0);
    int p;
    if (x == NULL) {
        memset(row, 0, sizeof *row * (size_t)g->cols * PAIR);
        return;
    }
    if (g->n < BLOCK) {
        widen_line(g, line, x, first, end, x_zero);
        for (p = 0; p < g->cols; p++)
            _mm512_storeu_si512(row + p * PAIR, _mm512_permutexvar_epi16(
                                                    zip, _mm512_loadu_si512(line + p * g->spread *
                                                                                   BLOCK)));
        return;
    }
    /* a full block's pixels widened straight from the input, 0 outside it
       (with stride 1 a column's right pixel is the next one's left) */
    {
        __m256i right = AVX2_PIXEL(0);
        for (p = 0; p < g->cols; p++) {
            const int col = p * g->spread;
            const __m256i left = g->spread == 1 ? right : AVX2_PIXEL(col);
            right = AVX2_PIXEL(col + 1);
            _mm512_storeu_si512(row + p * PAIR, _mm512_permutexvar_epi16(
                                                    zip, _mm512_inserti64x4(
                                                             _mm512_castsi256_si512(left), right, 1)));
        }
    }
}

/* The band: sums by pmaddwd and an add, or in one VNNI vpdpwssd. */
#define NHWC_BAND band_avx512
#define NHWC_BAND_TARGET AVX512_TARGET
#define NHWC_MADD(acc, x, w) _mm512_add_epi32(acc, _mm512_madd_epi16(x, w))
#include "qdwconv_nhwc_avx512.h"
#define NHWC_BAND band_avx512_vnni
#define NHWC_BAND_TARGET AVX512_TARGET ",avx512vnni"
#define NHWC_MADD(acc, x, w) _mm512_dpwssd_epi32(acc, x, w)
#include "qdwconv_nhwc_avx512.h"
#endif

typedef struct {
    fill_fn fill;
    band_fn band;
} nhwc_unit;

static int vnni_allowed = 1;

int ei_qdwconv_nhwc_allow_vnni(int allow)
{
    vnni_allowed = allow != 0;
    return 0;
}

static nhwc_unit unit_for(ei_simd_level level)
{
#ifdef NHWC_X86
    __builtin_cpu_init();
    /* the AVX-512 unit's word permutes and masked byte stores are AVX512BW/VL */
    if (level == EI_SIMD_AVX512 && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl"))
        return (nhwc_unit){fill_avx512, vnni_allowed && __builtin_cpu_supports("avx512vnni")
                                            ? band_avx512_vnni
                                            : band_avx512};
    if (level == EI_SIMD_AVX2 || level == EI_SIMD_AVX512)
        return (nhwc_unit){fill_avx2, band_avx2};
#endif
    (void)level;
    return (nhwc_unit){fill_portable, band_portable};
}

int ei_qdwconv_nhwc(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                    int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                    const int8_t *w, const int32_t *bias, const float *multiplier, int y_zero,
                    int lo, int hi, uint8_t *y, ei_simd_level level)
{
    int16_t *packed;
    int status;
    if (kh * kw > EI_QDWCONV_MAX_TAPS)
        return -2;
    packed = malloc(sizeof *packed * (size_t)ei_qdwconv_nhwc_packed_words(c, kh, kw));
    if (packed == NULL)
        return -1;
    ei_qdwconv_nhwc_pack(c, kh, kw, w, bias, multiplier, packed);
    status = ei_qdwconv_nhwc_packed(c, in_h, in_w, kh, kw, stride, pad_top, pad_left, out_h,
                                    out_w, x, x_zero, packed, y_zero, lo, hi, y, level);
    free(packed);
    return status;
}

/* A step's arguments, as its tasks read them. */
typedef struct {
    nhwc_unit unit;
    const uint8_t *x;
    const int16_t *packed;
    uint8_t *y;
    int c, in_h, in_w, kh, kw, stride, pad_top, pad_left, out_h, out_w, x_zero, y_zero, lo, hi;
    int pairs, span, spread, cols, band, bands;
    long tile_words, block_words;
} nhwc_step;

/* One band of output rows of one block of BLOCK channels. */
static int nhwc_task(void *ctx, int item, int thread)
{
    const nhwc_step *s = (const nhwc_step *)ctx;
    const int stride = s->stride, kh = s->kh, span = s->span, band = s->band;
    const int b = item / s->bands, oy = item % s->bands * band;
    const int c0 = b * BLOCK, row0 = oy * stride - s->pad_top;
    /* the tile, then the line */
    int16_t *tile = (int16_t *)ei_scratch(
        EI_SCRATCH_DEPTHWISE, sizeof *tile * (size_t)(s->tile_words + (long)(span + 1) * BLOCK));
    int16_t *line;
    const int16_t *block = s->packed + b * s->block_words;
    const nhwc_lanes lanes = {(const int32_t *)block, (const float *)(block + 2 * BLOCK),
                              block + HEAD_WORDS};
    /* the padded columns [first, end) the input covers */
    const int first = s->pad_left < span ? s->pad_left : span;
    const int end = s->in_w + s->pad_left < span ? s->in_w + s->pad_left : span;
    nhwc_geometry g;
    int r;
    (void)thread;
    if (tile == NULL)
        return -1;
    line = tile + s->tile_words;
    g.kh = kh, g.kw = s->kw, g.stride = stride, g.pairs = s->pairs;
    g.out_w = s->out_w, g.span = span, g.spread = s->spread, g.cols = s->cols;
    g.col_step = stride / s->spread, g.pair_step = 2 / s->spread;
    g.c = s->c, g.y_zero = s->y_zero, g.pad_left = s->pad_left;
    g.n = s->c - c0 < BLOCK ? s->c - c0 : BLOCK;
    g.out_h = s->out_h - oy < band ? s->out_h - oy : band;
    g.lo = (float)(s->lo - s->y_zero), g.hi = (float)(s->hi - s->y_zero);
    for (r = 0; r < (g.out_h - 1) * stride + kh; r++) {
        const int iy = row0 + r;
        const uint8_t *src =
            iy < 0 || iy >= s->in_h ? NULL : s->x + (long)iy * s->in_w * s->c + c0;
        s->unit.fill(&g, tile + (long)r * s->cols * PAIR, line, src, first, end, s->x_zero);
    }
    s->unit.band(&g, tile, &lanes, s->y + (long)oy * s->out_w * s->c + c0);
    return 0;
}

int ei_qdwconv_nhwc_packed(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                           int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                           const int16_t *packed, int y_zero, int lo, int hi, uint8_t *y,
                           ei_simd_level level)
{
    const int blocks = (c + BLOCK - 1) / BLOCK, pairs = (kw + 1) / 2;
    /* every column a group of GROUP pixels reads, the last group's past the row included */
    const int span = ((out_w + GROUP - 1) / GROUP * GROUP - 1) * stride + 2 * pairs;
    const int spread = stride % 2 == 0 ? 2 : 1, cols = (span + spread - 1) / spread;
    /* output rows per band: its tile about 128 KiB, in L2 (a row's bytes in long: a
       very wide map's would pass int, wrap to zero and divide by it) */
    const long row_bytes = (long)cols * PAIR * (long)sizeof(int16_t);
    int band = row_bytes >= 131072 ? 1 : (int)((131072 / row_bytes - kh) / stride + 1);
    int threads, bands;
    nhwc_step s;
    if (kh * kw > EI_QDWCONV_MAX_TAPS)
        return -2;
    band = band < 1 ? 1 : (band > out_h ? out_h : band);
    bands = (out_h + band - 1) / band;
    threads = ei_threads_for((double)blocks * bands, (double)band * out_w * kh * kw * BLOCK);
    /* few blocks of one band each (144 channels on a 28x28 map: 9) share
     * out evenly in more, shorter bands */
    bands *= ei_even_parts(blocks * bands, threads, out_h);
    band = (out_h + bands - 1) / bands;
    s.unit = unit_for(level);
    s.x = x, s.packed = packed, s.y = y;
    s.c = c, s.in_h = in_h, s.in_w = in_w, s.kh = kh, s.kw = kw, s.stride = stride;
    s.pad_top = pad_top, s.pad_left = pad_left, s.out_h = out_h, s.out_w = out_w;
    s.x_zero = x_zero, s.y_zero = y_zero, s.lo = lo, s.hi = hi;
    s.pairs = pairs, s.span = span, s.spread = spread, s.cols = cols;
    s.band = band, s.bands = (out_h + band - 1) / band;
    s.tile_words = (long)((band - 1) * stride + kh) * cols * PAIR;
    s.block_words = HEAD_WORDS + (long)kh * pairs * PAIR;
    return ei_parallel_for(blocks * s.bands, threads, nhwc_task, &s) < 0
               ? -1
               : 0;
}
