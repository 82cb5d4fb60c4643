#include "pool.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "scratch.h"
#include "thread_pool.h"
#include "threads.h"
#include "vec.h"

/* v where it is larger than acc or NaN, else acc (a NaN in acc stays: nothing
 * compares above it), as a bit select: a branch on the data would be
 * mispredicted half the time */
static inline float max_or_nan(float acc, float v)
{
    uint32_t a, b;
    const uint32_t take = 0u - (uint32_t)((v > acc) | (v != v));
    memcpy(&a, &acc, sizeof a);
    memcpy(&b, &v, sizeof b);
    a = (b & take) | (a & ~take);
    memcpy(&acc, &a, sizeof acc);
    return acc;
}

/* Window rows the down pass runs without a call per row; taller windows
 * (1-D pooling over long windows) go row by row. */
#define MAX_ROWS_TAPS 16
/* Floats of the down block: as many planes as fit stay in L2 together. */
#define POOL_CHUNK_FLOATS 32768

/* max_runs_<unit> for every vector unit this build has (pool_max_runs.h) */
#define POOL_UNIT portable
#define POOL_ATTR
#define POOL_WIDTHS(STEP)
#include "pool_max_runs.h"

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
#define POOL_UNIT sse2
#define POOL_ATTR __attribute__((target("sse2")))
#define POOL_WIDTHS(STEP) STEP(ei_f32x4, ei_i32x4, 4)
#include "pool_max_runs.h"

#define POOL_UNIT avx2
#define POOL_ATTR __attribute__((target("avx2")))
#define POOL_WIDTHS(STEP) STEP(ei_f32x8, ei_i32x8, 8) STEP(ei_f32x4, ei_i32x4, 4)
#include "pool_max_runs.h"

#define POOL_UNIT avx512
#define POOL_ATTR __attribute__((target("avx512f")))
#define POOL_WIDTHS(STEP)                                                                      \
    STEP(ei_f32x16, ei_i32x16, 16) STEP(ei_f32x8, ei_i32x8, 8) STEP(ei_f32x4, ei_i32x4, 4)
#include "pool_max_runs.h"
#endif

/* aarch64 only: 32-bit ARM NEON flushes denormals, which would change a max
 * of tiny values, so it runs the plain C */
#if defined(__aarch64__) && defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
#define POOL_UNIT neon
#define POOL_ATTR
#define POOL_WIDTHS(STEP) STEP(ei_f32x4, ei_i32x4, 4)
#include "pool_max_runs.h"
#endif

typedef struct {
    void (*max_runs)(const float *const *runs, int count, int n, float *restrict out);
    void (*max_rows)(const float *src, ptrdiff_t row_step, ptrdiff_t tap_step, int count,
                     int rows, int n, float *out, ptrdiff_t out_step);
    void (*evens_rows)(const float *src, ptrdiff_t src_step, int rows, int n, float *out,
                       ptrdiff_t out_step);
} max_pool_kernels;

#define MAX_POOL_KERNELS(unit) {max_runs_##unit, max_rows_##unit, evens_rows_##unit}

static max_pool_kernels max_pool_kernels_for(ei_simd_level level)
{
    static const max_pool_kernels portable = MAX_POOL_KERNELS(portable);
    switch (level) {
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    case EI_SIMD_SSE2: {
        static const max_pool_kernels sse2 = MAX_POOL_KERNELS(sse2);
        return sse2;
    }
    case EI_SIMD_AVX2: {
        static const max_pool_kernels avx2 = MAX_POOL_KERNELS(avx2);
        return avx2;
    }
    case EI_SIMD_AVX512: {
        static const max_pool_kernels avx512 = MAX_POOL_KERNELS(avx512);
        return avx512;
    }
#endif
#if defined(__aarch64__) && defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    case EI_SIMD_NEON: {
        static const max_pool_kernels neon = MAX_POOL_KERNELS(neon);
        return neon;
    }
#endif
    default: return portable;
    }
}

static int valid(const ei_pool2d_params *p)
{
    return p->planes >= 0 && p->in_height > 0 && p->in_width > 0 && p->out_height >= 0 &&
           p->out_width >= 0 && p->kernel_h > 0 && p->kernel_w > 0 && p->stride_h > 0 &&
           p->stride_w > 0 && p->dilation_h > 0 && p->dilation_w > 0 && p->pad_top >= 0 &&
           p->pad_left >= 0 && p->pad_bottom >= 0 && p->pad_right >= 0;
}

/* Window taps [first, last) along one axis that fall inside the input, and
 * how many taps fall inside the padded input (ceil mode may run past both). */
typedef struct {
    int first, last, padded_taps;
} taps;

static taps window(int out_index, int stride, int pad_begin, int pad_end, int kernel,
                   int dilation, int in_len)
{
    taps t;
    int start = out_index * stride - pad_begin;
    int k;
    t.first = 0;
    t.last = 0;
    t.padded_taps = 0;
    /* first tap at or after 0, last tap before in_len; kernels are small */
    t.first = kernel;
    for (k = 0; k < kernel; k++) {
        int pos = start + k * dilation;
        if (pos >= -pad_begin && pos < in_len + pad_end)
            t.padded_taps++;
        if (pos >= 0 && pos < in_len) {
            if (t.first == kernel)
                t.first = k;
            t.last = k + 1;
        }
    }
    if (t.first == kernel)
        t.first = t.last = 0;
    return t;
}

/* The taps of every output column, the same for every row and plane. */
static taps *column_taps(const ei_pool2d_params *p)
{
    taps *t = (taps *)malloc(sizeof(taps) * (size_t)(p->out_width > 0 ? p->out_width : 1));
    int ow;
    if (t == NULL)
        return NULL;
    for (ow = 0; ow < p->out_width; ow++)
        t[ow] = window(ow, p->stride_w, p->pad_left, p->pad_right, p->kernel_w, p->dilation_w,
                       p->in_width);
    return t;
}

/* For kernel column kw: the output columns [lo, hi) whose tap falls inside
 * the input. Rows are then swept tap by tap, a contiguous loop for stride 1
 * that the compiler vectorises, instead of window by window. */
static void tap_columns(const ei_pool2d_params *p, int kw, int *lo, int *hi)
{
    int offset = kw * p->dilation_w - p->pad_left; /* input column = ow * stride + offset */
    int l = offset >= 0 ? 0 : (-offset + p->stride_w - 1) / p->stride_w;
    int last = p->in_width - 1 - offset;
    int h = last < 0 ? 0 : last / p->stride_w + 1;
    if (h > p->out_width)
        h = p->out_width;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* A max pooling step's arguments, as its tasks read them. */
typedef struct {
    const ei_pool2d_params *p;
    const float *x;
    float *y;
    max_pool_kernels kernels;
    int line, chunk, pointers, full_lo, full_hi;
    size_t plane_block, block, across_len, bytes;
    unsigned char padded[EI_MAX_THREADS]; /* the thread's scratch rows have their -inf pads */
} max_pool_step;

/* One chunk of planes of max_pool2d, in the scratch of the thread that takes
 * it, whose padding columns are set the first time the thread does. */
static int max_pool_task(void *ctx, int item, int thread)
{
    max_pool_step *s = (max_pool_step *)ctx;
    const ei_pool2d_params *p = s->p;
    const int sh = p->stride_h, sw = p->stride_w, ho = p->out_height, wo = p->out_width;
    const int kh = p->kernel_h, dh = p->dilation_h, w = p->in_width;
    const int line = s->line, chunk = s->chunk, full_lo = s->full_lo, full_hi = s->full_hi;
    const size_t plane_block = s->plane_block;
    const max_pool_kernels kernels = s->kernels;
    const float *x = s->x;
    float *y = s->y;
    const float **runs = (const float **)ei_scratch(EI_SCRATCH_POOL, s->bytes);
    float *down = runs != NULL ? (float *)(void *)(runs + s->pointers) : NULL;
    float *across = down != NULL ? down + s->block : NULL;
    int oh, r, c;
    if (runs == NULL)
        return -2;
    if (!s->padded[thread]) {
        across[s->across_len] = 0.0f;
        for (r = 0; r < chunk * ho; r++) {
            float *row = down + (size_t)r * line;
            for (c = 0; c < p->pad_left; c++)
                row[c] = -INFINITY;
            for (c = p->pad_left + w; c < line; c++)
                row[c] = -INFINITY;
        }
        s->padded[thread] = 1;
    }
    {
        const int first_plane = item * chunk;
        const int planes = p->planes - first_plane < chunk ? p->planes - first_plane : chunk;
        const int rows = planes * ho;
        float *dst = y + (long)first_plane * ho * wo;
        int plane, k;
        for (plane = 0; plane < planes; plane++) {
            const float *src = x + (long)(first_plane + plane) * p->in_height * w;
            float *block_rows = down + (size_t)plane * plane_block + p->pad_left;
            for (oh = 0; oh < ho; oh++) {
                const taps th = window(oh, sh, p->pad_top, p->pad_bottom, kh, dh,
                                       p->in_height);
                const int row0 = oh * sh - p->pad_top;
                float *row = block_rows + (size_t)oh * line;
                if (oh == full_lo && full_hi > full_lo) {
                    kernels.max_rows(src + (long)row0 * w, (ptrdiff_t)sh * w,
                                     (ptrdiff_t)dh * w, kh, full_hi - full_lo, w, row, line);
                    oh = full_hi - 1;
                    continue;
                }
                if (th.first == th.last) {
                    for (c = 0; c < w; c++)
                        row[c] = -INFINITY;
                    continue;
                }
                for (k = th.first; k < th.last; k++)
                    runs[k - th.first] = src + (long)(row0 + k * dh) * w;
                kernels.max_runs(runs, th.last - th.first, w, row);
            }
        }
        for (k = 0; k < p->kernel_w; k++)
            runs[k] = down + k * p->dilation_w;
        kernels.max_runs(runs, p->kernel_w,
                         (int)((size_t)(rows - 1) * line + (size_t)(wo - 1) * sw + 1), across);
        if (sw == 2) {
            kernels.evens_rows(across, line, rows, wo, dst, wo);
            return 0;
        }
        for (r = 0; r < rows; r++) {
            const float *from = across + (size_t)r * line;
            float *out = dst + (long)r * wo;
            if (sw == 1)
                memcpy(out, from, sizeof(float) * (size_t)wo);
            else
                for (c = 0; c < wo; c++)
                    out[c] = from[(long)c * sw];
        }
    }
    return 0;
}

/* Max pooling, separable as max is. Down: for each output row, the largest
 * of the window's input rows, column by column, into that row of a block
 * whose rows are padded with -inf on both sides; the rows whose windows lie
 * inside the input in one call, without a call per row. Across: the largest
 * of kernel_w shifted copies of the whole block, as one flat run (a row's
 * windows never reach the next row's columns); then every stride-th column
 * of each row is the output. A block holds as many planes as stay in L2, so
 * small maps (8x8 and 128 planes) are a few long runs too. Every pass is a
 * run of whole vectors however small the window; a window with no tap inside
 * the input is -inf. */
static int max_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    const int sh = p->stride_h, sw = p->stride_w, ho = p->out_height, wo = p->out_width;
    const int kh = p->kernel_h, dh = p->dilation_h, w = p->in_width;
    /* padded columns the last window reaches: ceil mode may pass the right pad */
    const int reach = (wo - 1) * sw + (p->kernel_w - 1) * p->dilation_w + 1;
    const int line = reach > p->pad_left + w ? reach : p->pad_left + w;
    const size_t plane_block = (size_t)ho * line;
    const int chunk = plane_block * p->planes <= POOL_CHUNK_FLOATS ? p->planes
                      : plane_block >= POOL_CHUNK_FLOATS ? 1
                                                         : (int)(POOL_CHUNK_FLOATS / plane_block);
    const int chunks = p->planes > 0 ? (p->planes + chunk - 1) / chunk : 0;
    const size_t block = (size_t)chunk * plane_block;
    /* up to the last window's first column; its taps end inside the block */
    const size_t across_len = block - (size_t)line + (size_t)(wo - 1) * sw + 1;
    const int pointers = kh > p->kernel_w ? kh : p->kernel_w;
    /* the last row's every-second-float copy reads one float past across */
    const size_t bytes =
        sizeof(float *) * (size_t)pointers + sizeof(float) * (block + across_len + 1);
    const max_pool_kernels kernels = max_pool_kernels_for(ei_simd_active());
    int full_lo = 0, full_hi = 0, oh;
    if (p->planes == 0 || ho == 0 || wo == 0)
        return 0;
    /* the output rows whose every tap lies inside the input, a contiguous range */
    for (oh = 0; oh < ho; oh++) {
        const int top = oh * sh - p->pad_top;
        if (top >= 0 && top + (kh - 1) * dh < p->in_height) {
            if (full_hi == 0)
                full_lo = oh;
            full_hi = oh + 1;
        }
    }
    if (kh > MAX_ROWS_TAPS)
        full_lo = full_hi = 0;
    {
        max_pool_step s;
        s.p = p;
        s.x = x;
        s.y = y;
        s.kernels = kernels;
        s.line = line;
        s.plane_block = plane_block;
        s.chunk = chunk;
        s.block = block;
        s.across_len = across_len;
        s.pointers = pointers;
        s.bytes = bytes;
        s.full_lo = full_lo;
        s.full_hi = full_hi;
        memset(s.padded, 0, sizeof s.padded);
        return ei_parallel_for(
            chunks,
            ei_threads_for(chunks, EI_WORK_PER_STREAMED_FLOAT * (double)chunk * ho * wo *
                                       (kh + p->kernel_w)),
            max_pool_task, &s);
    }
}

static void sum_row(const ei_pool2d_params *p, const float *src, const taps *th, int row0,
                    const int *ranges, float *out)
{
    int ow, kh, kw;
    for (ow = 0; ow < p->out_width; ow++)
        out[ow] = 0.0f;
    for (kh = th->first; kh < th->last; kh++) {
        const float *row = src + (long)(row0 + kh * p->dilation_h) * p->in_width;
        for (kw = 0; kw < p->kernel_w; kw++) {
            int lo = ranges[2 * kw], hi = ranges[2 * kw + 1];
            const float *in = row + (long)lo * p->stride_w + kw * p->dilation_w - p->pad_left;
            float *acc = out + lo;
            int n = hi - lo;
            if (p->stride_w == 1) {
                for (ow = 0; ow < n; ow++)
                    acc[ow] += in[ow];
            } else {
                for (ow = 0; ow < n; ow++)
                    acc[ow] += in[(long)ow * p->stride_w];
            }
        }
    }
}

/* An average pooling step's arguments, as its tasks read them. */
typedef struct {
    const ei_pool2d_params *p;
    const float *x;
    float *y;
    const int *ranges;
    const float *column_counts;
} avg_pool_step;

/* One plane of avg_pool2d. */
static int avg_pool_task(void *ctx, int plane, int thread)
{
    const avg_pool_step *s = (const avg_pool_step *)ctx;
    const ei_pool2d_params *p = s->p;
    const float *src = s->x + (long)plane * p->in_height * p->in_width;
    float *dst = s->y + (long)plane * p->out_height * p->out_width;
    int oh, c;
    (void)thread;
    for (oh = 0; oh < p->out_height; oh++) {
        taps th = window(oh, p->stride_h, p->pad_top, p->pad_bottom, p->kernel_h,
                         p->dilation_h, p->in_height);
        int row0 = oh * p->stride_h - p->pad_top;
        /* taps inside the input are contiguous in k */
        const float row_count =
            (float)(p->count_include_pad ? th.padded_taps : th.last - th.first);
        float *out = dst + (long)oh * p->out_width;
        sum_row(p, src, &th, row0, s->ranges, out);
        for (c = 0; c < p->out_width; c++)
            out[c] = out[c] / (row_count * s->column_counts[c]);
    }
    return 0;
}

/* Average pooling: each output row the sum of its window's taps, swept tap
 * by tap (sum_row), then divided by its windows' tap counts in one pass over
 * the row. A count is the row's taps times the column's, exact in a float,
 * so the division is the true sum / count, in vectors, with no branch: a
 * window with no tap sums to 0 and 0 / 0 is the NaN it must give. */
static int avg_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    int kw, ow;
    taps *columns;
    int *ranges;
    float *column_counts;
    if (!valid(p))
        return -1;
    columns = column_taps(p);
    ranges = (int *)malloc(sizeof(int) * 2 * (size_t)p->kernel_w);
    column_counts = (float *)malloc(sizeof(float) * (size_t)(p->out_width > 0 ? p->out_width : 1));
    if (columns == NULL || ranges == NULL || column_counts == NULL) {
        free(columns);
        free(ranges);
        free(column_counts);
        return -2;
    }
    for (kw = 0; kw < p->kernel_w; kw++)
        tap_columns(p, kw, &ranges[2 * kw], &ranges[2 * kw + 1]);
    for (ow = 0; ow < p->out_width; ow++)
        column_counts[ow] = (float)(p->count_include_pad ? columns[ow].padded_taps
                                                         : columns[ow].last - columns[ow].first);
    {
        avg_pool_step s;
        s.p = p;
        s.x = x;
        s.y = y;
        s.ranges = ranges;
        s.column_counts = column_counts;
        (void)ei_parallel_for(p->planes,
                              ei_threads_for(p->planes, EI_WORK_PER_STREAMED_FLOAT *
                                                            p->out_height * p->out_width *
                                                            p->kernel_h * p->kernel_w),
                              avg_pool_task, &s);
    }
    free(columns);
    free(ranges);
    free(column_counts);
    return 0;
}

int ei_max_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    return valid(p) ? max_pool2d(p, x, y) : -1;
}

int ei_avg_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    return avg_pool2d(p, x, y);
}

/* The mean of one plane from four partial sums, lane l summing the values
 * at i % 4 == l and s[0] the last few: the order every path keeps, so the
 * result does not depend on how many planes went together. */
static float plane_mean(const float s[4], const float *src, int from, int size)
{
    float first = s[0];
    int i;
    for (i = from; i < size; i++)
        first += src[i];
    return ((first + s[1]) + (s[2] + s[3])) / (float)size;
}

/* Planes summed this many at a time: one plane's partial sums are a single
 * chain of vector adds, each waiting on the one before (1280 planes of 7x7
 * took 2.5-3x onnxruntime's time); eight planes' chains run side by side
 * (1280 planes of 7x7: 0.3-0.45x the time of one at a time; 64 of 56x56:
 * 0.2x). */
#define GLOBAL_POOL_PLANES 8

static void global_avg_planes(int size, const float *x, float *y)
{
    float s[GLOBAL_POOL_PLANES][4];
    int plane, i = 0;
#if EI_HAVE_VECTOR_EXTENSIONS
    ei_f32x4 acc[GLOBAL_POOL_PLANES] = {{0.0f}};
    for (; i + 4 <= size; i += 4)
        for (plane = 0; plane < GLOBAL_POOL_PLANES; plane++)
            acc[plane] += *(const ei_f32x4 *)(x + (long)plane * size + i);
    for (plane = 0; plane < GLOBAL_POOL_PLANES; plane++)
        memcpy(s[plane], &acc[plane], sizeof s[plane]);
#else
    memset(s, 0, sizeof s);
    for (; i + 4 <= size; i += 4)
        for (plane = 0; plane < GLOBAL_POOL_PLANES; plane++) {
            const float *src = x + (long)plane * size + i;
            s[plane][0] += src[0];
            s[plane][1] += src[1];
            s[plane][2] += src[2];
            s[plane][3] += src[3];
        }
#endif
    for (plane = 0; plane < GLOBAL_POOL_PLANES; plane++)
        y[plane] = plane_mean(s[plane], x + (long)plane * size, i, size);
}

/* A global average step's arguments, as its tasks read them. */
typedef struct {
    int size;
    const float *x;
    float *y;
} global_pool_step;

static int global_avg_task(void *ctx, int group, int thread)
{
    const global_pool_step *s = (const global_pool_step *)ctx;
    (void)thread;
    global_avg_planes(s->size, s->x + (long)group * GLOBAL_POOL_PLANES * s->size,
                      s->y + group * GLOBAL_POOL_PLANES);
    return 0;
}

void ei_global_avg_pool(int planes, int size, const float *x, float *y)
{
    const int groups = planes / GLOBAL_POOL_PLANES;
    global_pool_step s;
    int plane;
    s.size = size;
    s.x = x;
    s.y = y;
    (void)ei_parallel_for(groups, ei_threads_for(planes, EI_WORK_PER_STREAMED_FLOAT * size),
                          global_avg_task, &s);
    for (plane = groups * GLOBAL_POOL_PLANES; plane < planes; plane++) {
        const float *src = x + (long)plane * size;
        float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        int i = 0;
        for (; i + 4 <= size; i += 4) {
            s[0] += src[i];
            s[1] += src[i + 1];
            s[2] += src[i + 2];
            s[3] += src[i + 3];
        }
        y[plane] = plane_mean(s, src, i, size);
    }
}
