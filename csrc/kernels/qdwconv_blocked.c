#include "qdwconv_blocked.h"

#include "qdwconv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scratch.h"
#include "thread_pool.h"
#include "threads.h"
#include "vec.h"

typedef struct {
    int kh, kw, stride, out_h, out_w;
    int rows, cols; /* of the padded tile: what the taps read */
    float lo, hi;   /* output bounds less the output zero point */
} qdw_geometry;

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
#include <immintrin.h>
/* four bytes as one int, for SSE2's movd */
static inline int qdw_word(const uint8_t *p)
{
    int v;
    memcpy(&v, p, 4);
    return v;
}
#endif

/* Plain C: the fallback every build has. */
#define EI_QDW_ISA (portable, float, int, 1, )
#include "qdwconv_block_isa.h"

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
#define EI_QDW_ISA (sse2, ei_f32x4, ei_i32x4, 4, __attribute__((target("sse2"))))
#include "qdwconv_block_isa.h"
#define EI_QDW_ISA (avx2, ei_f32x8, ei_i32x8, 8, __attribute__((target("avx2,fma"))))
#include "qdwconv_block_isa.h"
#define EI_QDW_ISA (avx512, ei_f32x16, ei_i32x16, 16, __attribute__((target("avx512f"))))
#include "qdwconv_block_isa.h"
#endif

#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
#if defined(__aarch64__)
#define EI_QDW_ISA (neon, ei_f32x4, ei_i32x4, 4, )
#else
#include <arm_neon.h>
#define EI_VEC_NEON_INTRINSICS 1
#define EI_QDW_ISA (neon, float32x4_t, int32x4_t, 4, )
#endif
#include "qdwconv_block_isa.h"
#endif

typedef void (*block_fn)(const qdw_geometry *, const float *, const float *, const int32_t *,
                         const float *, float *);
typedef void (*fill_fn)(const qdw_geometry *, float *, const uint8_t *, int, int, int, int, int,
                        int, int);
typedef void (*write_fn)(uint8_t *, const float *, int, int, long, int);

/* A unit's three channels-last steps: gather a tile, convolve it, write. */
typedef struct {
    fill_fn fill;
    block_fn block;
    write_fn write;
} nhwc_unit;

#define NHWC_UNIT(u) ((nhwc_unit){qdw_fill_##u, qdw_block_##u, qdw_write_##u})

static nhwc_unit nhwc_for(ei_simd_level level)
{
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_AVX512)
        return NHWC_UNIT(avx512);
    if (level == EI_SIMD_AVX2)
        return NHWC_UNIT(avx2);
    if (level == EI_SIMD_SSE2)
        return NHWC_UNIT(sse2);
#endif
#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_NEON)
        return NHWC_UNIT(neon);
#endif
    (void)level;
    return NHWC_UNIT(portable);
}

static block_fn block_for(ei_simd_level level)
{
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_AVX512)
        return qdw_block_avx512;
    if (level == EI_SIMD_AVX2)
        return qdw_block_avx2;
    if (level == EI_SIMD_SSE2)
        return qdw_block_sse2;
#endif
#if defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    if (level == EI_SIMD_NEON)
        return qdw_block_neon;
#endif
    (void)level;
    return qdw_block_portable;
}

#if defined(__SSE2__) && !defined(EI_NO_SIMD)
#include <emmintrin.h>
#define QDW_ZIP_SSE2 1
#elif defined(__ARM_NEON) && !defined(EI_NO_SIMD)
#include <arm_neon.h>
#define QDW_ZIP_NEON 1
#endif

/* blk[i][j] <-> blk[j][i]: between 16 channel rows of bytes and 16 pixels
 * of 16 channels. With vectors, four rounds of interleaving row i with row
 * i + 8 (a perfect shuffle, applied log2(16) times, transposes). */
static void transpose16(uint8_t blk[16][16])
{
#if defined(QDW_ZIP_SSE2) || defined(QDW_ZIP_NEON)
    int round, i;
#if defined(QDW_ZIP_SSE2)
    __m128i r[16], t[16];
    for (i = 0; i < 16; i++)
        r[i] = _mm_loadu_si128((const __m128i *)blk[i]);
    for (round = 0; round < 4; round++) {
        for (i = 0; i < 8; i++) {
            t[2 * i] = _mm_unpacklo_epi8(r[i], r[i + 8]);
            t[2 * i + 1] = _mm_unpackhi_epi8(r[i], r[i + 8]);
        }
        memcpy(r, t, sizeof r);
    }
    for (i = 0; i < 16; i++)
        _mm_storeu_si128((__m128i *)blk[i], r[i]);
#else
    uint8x16_t r[16], t[16];
    for (i = 0; i < 16; i++)
        r[i] = vld1q_u8(blk[i]);
    for (round = 0; round < 4; round++) {
        for (i = 0; i < 8; i++) {
            uint8x16x2_t z = vzipq_u8(r[i], r[i + 8]);
            t[2 * i] = z.val[0];
            t[2 * i + 1] = z.val[1];
        }
        memcpy(r, t, sizeof r);
    }
    for (i = 0; i < 16; i++)
        vst1q_u8(blk[i], r[i]);
#endif
#else
    int i, j;
    for (i = 0; i < 16; i++)
        for (j = i + 1; j < 16; j++) {
            const uint8_t t = blk[i][j];
            blk[i][j] = blk[j][i];
            blk[j][i] = t;
        }
#endif
}

void ei_u8_transpose(long rows, long cols, const uint8_t *x, uint8_t *y)
{
    uint8_t blk[16][16];
    long i, j;
    int a, b;
    for (i = 0; i < rows; i += 16) {
        const int n = rows - i < 16 ? (int)(rows - i) : 16;
        for (j = 0; j < cols; j += 16) {
            const int m = cols - j < 16 ? (int)(cols - j) : 16;
            if (n < 16 || m < 16) {
                for (a = 0; a < n; a++)
                    for (b = 0; b < m; b++)
                        y[(j + b) * rows + i + a] = x[(i + a) * cols + j + b];
                continue;
            }
            for (a = 0; a < 16; a++)
                memcpy(blk[a], x + (i + a) * cols + j, 16);
            transpose16(blk);
            for (b = 0; b < 16; b++)
                memcpy(y + (j + b) * rows + i, blk[b], 16);
        }
    }
}

/* Lane c of the tile from channel plane c, less the zero point, 16 columns
 * at a time through a byte transpose; the border is left as the zeroed tile
 * holds it (every block has the same geometry). Spare lanes of a partial
 * block read -x_zero, and their weights are 0. */
static void fill_tile(float *tile, const qdw_geometry *g, const uint8_t *x, int channels,
                      int in_h, int in_w, int pad_top, int pad_left, int x_zero)
{
    const long plane = (long)in_h * in_w;
    const int h = in_h < g->rows - pad_top ? in_h : g->rows - pad_top;
    const int w = in_w < g->cols - pad_left ? in_w : g->cols - pad_left;
    const float zero = (float)x_zero;
    uint8_t blk[16][16];
    int c, iy, ix, p;
    memset(blk, 0, sizeof blk);
    for (iy = 0; iy < h; iy++) {
        for (ix = 0; ix < w; ix += 16) {
            const int cols = w - ix < 16 ? w - ix : 16;
            float *dst = tile + ((long)(iy + pad_top) * g->cols + pad_left + ix) * EI_QDW_BLOCK;
            for (c = 0; c < 16; c++) {
                if (c >= channels)
                    memset(blk[c], 0, 16);
                else if (cols == 16)
                    memcpy(blk[c], x + c * plane + (long)iy * in_w + ix, 16);
                else
                    memcpy(blk[c], x + c * plane + (long)iy * in_w + ix, (size_t)cols);
            }
            transpose16(blk);
            for (p = 0; p < cols; p++, dst += EI_QDW_BLOCK)
                for (c = 0; c < 16; c++)
                    dst[c] = (float)blk[p][c] - zero;
        }
    }
}

/* The block's requantised values (less the output zero point) into its
 * output planes, 16 pixels at a time through a byte transpose. */
static void write_planes(uint8_t *y, const float *out, int channels, long plane, int y_zero)
{
    uint8_t blk[16][16];
    long q;
    int c, p;
    for (q = 0; q < plane; q += 16) {
        const int cols = plane - q < 16 ? (int)(plane - q) : 16;
        for (p = 0; p < cols; p++)
            for (c = 0; c < 16; c++)
                blk[p][c] = (uint8_t)((int)out[(q + p) * EI_QDW_BLOCK + c] + y_zero);
        transpose16(blk);
        for (c = 0; c < channels; c++) {
            if (cols == 16)
                memcpy(y + c * plane + q, blk[c], 16);
            else
                memcpy(y + c * plane + q, blk[c], (size_t)cols);
        }
    }
}

/* Block b's weights as lanes of float32 (tap-major), its bias and multiplier;
 * a partial block's spare lanes are zero. */
static void block_lanes(int b, int c, int taps, const int8_t *w, const int32_t *bias,
                        const float *multiplier, float *weights, int32_t *biases,
                        float *multipliers)
{
    const int c0 = b * EI_QDW_BLOCK, n = c - c0 < EI_QDW_BLOCK ? c - c0 : EI_QDW_BLOCK;
    int lane, t;
    memset(weights, 0, sizeof *weights * (size_t)taps * EI_QDW_BLOCK);
    memset(biases, 0, sizeof *biases * EI_QDW_BLOCK);
    memset(multipliers, 0, sizeof *multipliers * EI_QDW_BLOCK);
    for (lane = 0; lane < n; lane++) {
        const int8_t *wc = w + (long)(c0 + lane) * taps;
        for (t = 0; t < taps; t++)
            weights[t * EI_QDW_BLOCK + lane] = (float)wc[t];
        biases[lane] = bias != NULL ? bias[c0 + lane] : 0;
        multipliers[lane] = multiplier[c0 + lane];
    }
}

/* A channel-blocked step's arguments, as its tasks read them. */
typedef struct {
    qdw_geometry g;
    block_fn block;
    const uint8_t *x;
    const int8_t *w;
    const int32_t *bias;
    const float *multiplier;
    uint8_t *y;
    int c, taps, in_h, in_w, pad_top, pad_left, x_zero, y_zero;
    long plane, in_plane, tile_floats, scratch_floats;
    unsigned char cleared[EI_MAX_THREADS]; /* the thread's tile border is zero */
} blocked_step;

/* A thread's scratch: the tile, zeroed the first time the thread takes a
 * block of the step (each block's fill leaves its border and slack alone). */
static float *cleared_tile(unsigned char *cleared, long tile_floats, long scratch_floats)
{
    float *tile = (float *)ei_scratch(EI_SCRATCH_DEPTHWISE, (size_t)scratch_floats * sizeof *tile);
    if (tile != NULL && !*cleared) {
        memset(tile, 0, (size_t)tile_floats * sizeof *tile);
        *cleared = 1;
    }
    return tile;
}

/* One block of EI_QDW_BLOCK channels over the whole map. */
static int blocked_task(void *ctx, int b, int thread)
{
    blocked_step *s = (blocked_step *)ctx;
    float *tile = cleared_tile(&s->cleared[thread], s->tile_floats, s->scratch_floats);
    float *out, *weights, *multipliers;
    int32_t *biases;
    const int c0 = b * EI_QDW_BLOCK;
    const int n = s->c - c0 < EI_QDW_BLOCK ? s->c - c0 : EI_QDW_BLOCK;
    if (tile == NULL)
        return -1;
    out = tile + s->tile_floats;
    weights = out + (s->plane + EI_QDW_OUT_SLACK) * EI_QDW_BLOCK;
    multipliers = weights + (long)s->taps * EI_QDW_BLOCK;
    biases = (int32_t *)(multipliers + EI_QDW_BLOCK);
    block_lanes(b, s->c, s->taps, s->w, s->bias, s->multiplier, weights, biases, multipliers);
    fill_tile(tile, &s->g, s->x + c0 * s->in_plane, n, s->in_h, s->in_w, s->pad_top,
              s->pad_left, s->x_zero);
    s->block(&s->g, tile, weights, biases, multipliers, out);
    write_planes(s->y + c0 * s->plane, out, n, s->plane, s->y_zero);
    return 0;
}

int ei_qdwconv_blocked(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                       int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                       const int8_t *w, const int32_t *bias, const float *multiplier,
                       int y_zero, int lo, int hi, uint8_t *y, ei_simd_level level)
{
    const int blocks = (c + EI_QDW_BLOCK - 1) / EI_QDW_BLOCK, taps = kh * kw;
    const long plane = (long)out_h * out_w, in_plane = (long)in_h * in_w;
    blocked_step s;
    qdw_geometry g;
    long tile_floats, scratch_floats;
    g.kh = kh, g.kw = kw, g.stride = stride, g.out_h = out_h, g.out_w = out_w;
    g.rows = (out_h - 1) * stride + kh;
    g.cols = (out_w - 1) * stride + kw;
    g.lo = (float)(lo - y_zero), g.hi = (float)(hi - y_zero);
    /* the last pixel group of a row may run up to 8 pixels past it */
    tile_floats = ((long)g.rows * g.cols + 8L * stride + kw) * EI_QDW_BLOCK;
    /* tile, output, weights, multipliers and biases (as many int32 as floats) */
    scratch_floats = tile_floats + (plane + EI_QDW_OUT_SLACK + taps + 2) * EI_QDW_BLOCK;
    memset(&s, 0, sizeof s);
    s.g = g, s.block = block_for(level);
    s.x = x, s.w = w, s.bias = bias, s.multiplier = multiplier, s.y = y;
    s.c = c, s.taps = taps, s.in_h = in_h, s.in_w = in_w, s.pad_top = pad_top;
    s.pad_left = pad_left, s.x_zero = x_zero, s.y_zero = y_zero;
    s.plane = plane, s.in_plane = in_plane;
    s.tile_floats = tile_floats, s.scratch_floats = scratch_floats;
    return ei_parallel_for(blocks, ei_threads_for(blocks, (double)plane * taps * EI_QDW_BLOCK),
                           blocked_task, &s) < 0
               ? -1
               : 0;
}

/* A channels-last step's arguments, as its tasks read them; each thread
 * keeps the block whose weights its scratch holds. */
typedef struct {
    nhwc_unit unit;
    const uint8_t *x;
    const int8_t *w;
    const int32_t *bias;
    const float *multiplier;
    uint8_t *y;
    int c, in_h, in_w, kh, kw, stride, pad_top, pad_left, out_h, out_w, cols, band, bands;
    int taps, x_zero, y_zero, lo, hi;
    long tile_floats, scratch_floats;
    unsigned char cleared[EI_MAX_THREADS];
    int lanes_of[EI_MAX_THREADS]; /* the block whose weights the thread's scratch holds */
} nhwc_step;

/* One band of output rows of one block of EI_QDW_BLOCK channels. */
static int nhwc_task(void *ctx, int item, int thread)
{
    nhwc_step *s = (nhwc_step *)ctx;
    const int band = s->band, c = s->c, taps = s->taps, stride = s->stride;
    float *tile = cleared_tile(&s->cleared[thread], s->tile_floats, s->scratch_floats);
    float *out, *weights, *multipliers;
    int32_t *biases;
    const int b = item / s->bands, oy = item % s->bands * band;
    const int c0 = b * EI_QDW_BLOCK;
    const int n = c - c0 < EI_QDW_BLOCK ? c - c0 : EI_QDW_BLOCK;
    qdw_geometry g;
    if (tile == NULL)
        return -1;
    out = tile + s->tile_floats;
    weights = out + ((long)band * s->out_w + EI_QDW_OUT_SLACK) * EI_QDW_BLOCK;
    multipliers = weights + (long)taps * EI_QDW_BLOCK;
    biases = (int32_t *)(multipliers + EI_QDW_BLOCK);
    g.kh = s->kh, g.kw = s->kw, g.stride = stride, g.out_w = s->out_w, g.cols = s->cols;
    g.out_h = s->out_h - oy < band ? s->out_h - oy : band;
    g.rows = (g.out_h - 1) * stride + s->kh;
    g.lo = (float)(s->lo - s->y_zero), g.hi = (float)(s->hi - s->y_zero);
    if (s->lanes_of[thread] != b + 1) { /* 0: none yet */
        block_lanes(b, c, taps, s->w, s->bias, s->multiplier, weights, biases, multipliers);
        s->lanes_of[thread] = b + 1;
    }
    s->unit.fill(&g, tile, s->x + c0, c, n, s->in_h, s->in_w, oy * stride - s->pad_top,
                 -s->pad_left, s->x_zero);
    s->unit.block(&g, tile, weights, biases, multipliers, out);
    s->unit.write(s->y + ((long)oy * s->out_w) * c + c0, out, c, n, (long)g.out_h * s->out_w,
                  s->y_zero);
    return 0;
}

int ei_qdwconv_nhwc(int c, int in_h, int in_w, int kh, int kw, int stride, int pad_top,
                    int pad_left, int out_h, int out_w, const uint8_t *x, int x_zero,
                    const int8_t *w, const int32_t *bias, const float *multiplier, int y_zero,
                    int lo, int hi, uint8_t *y, ei_simd_level level)
{
    const int blocks = (c + EI_QDW_BLOCK - 1) / EI_QDW_BLOCK, taps = kh * kw;
    const int cols = (out_w - 1) * stride + kw;
    nhwc_step s;
    /* output rows per band: its tile about 128 KiB, in L2 (a row's bytes in long: a
       very wide map's would pass int, wrap to zero and divide by it) */
    const long row_bytes = (long)cols * EI_QDW_BLOCK * (long)sizeof(float);
    int band = row_bytes >= 131072 ? 1 : (int)((131072 / row_bytes - kh) / stride + 1);
    int bands;
    long tile_floats, scratch_floats;
    if (taps > EI_QDWCONV_MAX_TAPS)
        return -2;
    band = band < 1 ? 1 : (band > out_h ? out_h : band);
    bands = (out_h + band - 1) / band;
    tile_floats = ((long)((band - 1) * stride + kh) * cols + 8L * stride + kw) * EI_QDW_BLOCK;
    scratch_floats = tile_floats + ((long)band * out_w + EI_QDW_OUT_SLACK + taps + 2) * EI_QDW_BLOCK;
    memset(&s, 0, sizeof s);
    s.unit = nhwc_for(level);
    s.x = x, s.w = w, s.bias = bias, s.multiplier = multiplier, s.y = y;
    s.c = c, s.in_h = in_h, s.in_w = in_w, s.kh = kh, s.kw = kw, s.stride = stride;
    s.pad_top = pad_top, s.pad_left = pad_left, s.out_h = out_h, s.out_w = out_w, s.cols = cols;
    s.band = band, s.bands = bands, s.taps = taps;
    s.x_zero = x_zero, s.y_zero = y_zero, s.lo = lo, s.hi = hi;
    s.tile_floats = tile_floats, s.scratch_floats = scratch_floats;
    return ei_parallel_for(blocks * bands,
                           ei_threads_for((double)blocks * bands,
                                          (double)band * out_w * taps * EI_QDW_BLOCK),
                           nhwc_task, &s) < 0
               ? -1
               : 0;
}
