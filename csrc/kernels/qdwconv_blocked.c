#include "qdwconv_blocked.h"

#include "qdwconv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scratch.h"
#include "thread_pool.h"
#include "threads.h"
#include "u8_transpose.h"
#include "vec.h"

typedef struct {
    int kh, kw, stride, out_h, out_w;
    int rows, cols; /* of the padded tile: what the taps read */
    float lo, hi;   /* output bounds less the output zero point */
} qdw_geometry;

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
            ei_u8_transpose16(blk);
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
        ei_u8_transpose16(blk);
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
