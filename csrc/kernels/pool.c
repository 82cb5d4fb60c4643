#include "pool.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "scratch.h"
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

/* max_runs_<unit> for every vector unit this build has (pool_max_runs.h) */
#define POOL_UNIT portable
#define POOL_ATTR
#define POOL_WIDTHS
#include "pool_max_runs.h"

#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
#define POOL_UNIT sse2
#define POOL_ATTR __attribute__((target("sse2")))
#define POOL_WIDTHS MAX_RUNS_VECTORS(ei_f32x4, ei_i32x4, 4)
#include "pool_max_runs.h"

#define POOL_UNIT avx2
#define POOL_ATTR __attribute__((target("avx2")))
#define POOL_WIDTHS                                                                            \
    MAX_RUNS_VECTORS(ei_f32x8, ei_i32x8, 8) MAX_RUNS_VECTORS(ei_f32x4, ei_i32x4, 4)
#include "pool_max_runs.h"

#define POOL_UNIT avx512
#define POOL_ATTR __attribute__((target("avx512f")))
#define POOL_WIDTHS                                                                            \
    MAX_RUNS_VECTORS(ei_f32x16, ei_i32x16, 16)                                                 \
    MAX_RUNS_VECTORS(ei_f32x8, ei_i32x8, 8) MAX_RUNS_VECTORS(ei_f32x4, ei_i32x4, 4)
#include "pool_max_runs.h"
#endif

/* aarch64 only: 32-bit ARM NEON flushes denormals, which would change a max
 * of tiny values, so it runs the plain C */
#if defined(__aarch64__) && defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
#define POOL_UNIT neon
#define POOL_ATTR
#define POOL_WIDTHS MAX_RUNS_VECTORS(ei_f32x4, ei_i32x4, 4)
#include "pool_max_runs.h"
#endif

typedef void (*max_runs_fn)(const float *const *runs, int count, int n, float *restrict out);

static max_runs_fn max_runs_for(ei_simd_level level)
{
    switch (level) {
#if EI_HAVE_X86_TARGETS && EI_HAVE_VECTOR_EXTENSIONS
    case EI_SIMD_SSE2: return max_runs_sse2;
    case EI_SIMD_AVX2: return max_runs_avx2;
    case EI_SIMD_AVX512: return max_runs_avx512;
#endif
#if defined(__aarch64__) && defined(__ARM_NEON) && EI_HAVE_VECTOR_EXTENSIONS
    case EI_SIMD_NEON: return max_runs_neon;
#endif
    default: return max_runs_portable;
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

/* Max pooling, separable as max is. Down: for each output row, the largest
 * of the window's input rows, column by column, into that row of a block
 * whose rows are padded with -inf on both sides. Across: the largest of
 * kernel_w shifted copies of the whole block, as one flat run (a row's
 * windows never reach the next row's columns); then every stride-th column
 * of each row is the output. Every pass is a run of whole vectors however
 * small the window; a window with no tap inside the input is -inf. */
static int max_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    const int sw = p->stride_w, ho = p->out_height, wo = p->out_width;
    /* padded columns the last window reaches: ceil mode may pass the right pad */
    const int reach = (wo - 1) * sw + (p->kernel_w - 1) * p->dilation_w + 1;
    const int line = reach > p->pad_left + p->in_width ? reach : p->pad_left + p->in_width;
    const size_t block = (size_t)ho * line;
    /* up to the last window's first column; its taps end inside the block */
    const size_t across_len = (size_t)(ho - 1) * line + (size_t)(wo - 1) * sw + 1;
    const int pointers = p->kernel_h > p->kernel_w ? p->kernel_h : p->kernel_w;
    const size_t bytes = sizeof(float *) * (size_t)pointers + sizeof(float) * (block + across_len);
    const max_runs_fn max_runs = max_runs_for(ei_simd_active());
    int status = 0;
    if (p->planes == 0 || ho == 0 || wo == 0)
        return 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(ei_get_num_threads()) reduction(min : status) \
    if ((long)p->planes * ho * wo > 32768)
#endif
    {
        const float **runs = (const float **)ei_scratch(EI_SCRATCH_POOL, bytes);
        float *down = runs != NULL ? (float *)(void *)(runs + pointers) : NULL;
        float *across = down != NULL ? down + block : NULL;
        int plane, oh, c;
        if (runs == NULL)
            status = -2;
        else
            for (oh = 0; oh < ho; oh++) {
                float *row = down + (size_t)oh * line;
                for (c = 0; c < p->pad_left; c++)
                    row[c] = -INFINITY;
                for (c = p->pad_left + p->in_width; c < line; c++)
                    row[c] = -INFINITY;
            }
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (plane = 0; plane < p->planes; plane++) {
            const float *src = x + (long)plane * p->in_height * p->in_width;
            float *dst = y + (long)plane * ho * wo;
            int ow, k;
            if (runs == NULL)
                continue;
            for (oh = 0; oh < ho; oh++) {
                const taps th = window(oh, p->stride_h, p->pad_top, p->pad_bottom, p->kernel_h,
                                       p->dilation_h, p->in_height);
                const int row0 = oh * p->stride_h - p->pad_top;
                float *row = down + (size_t)oh * line + p->pad_left;
                if (th.first == th.last) {
                    for (c = 0; c < p->in_width; c++)
                        row[c] = -INFINITY;
                    continue;
                }
                for (k = th.first; k < th.last; k++)
                    runs[k - th.first] = src + (long)(row0 + k * p->dilation_h) * p->in_width;
                max_runs(runs, th.last - th.first, p->in_width, row);
            }
            for (k = 0; k < p->kernel_w; k++)
                runs[k] = down + k * p->dilation_w;
            max_runs(runs, p->kernel_w, (int)across_len, across);
            for (oh = 0; oh < ho; oh++) {
                const float *from = across + (size_t)oh * line;
                float *out = dst + (long)oh * wo;
                if (sw == 1)
                    for (ow = 0; ow < wo; ow++)
                        out[ow] = from[ow];
                else
                    for (ow = 0; ow < wo; ow++)
                        out[ow] = from[(long)ow * sw];
            }
        }
    }
    return status;
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

static int avg_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    int plane, kw;
    taps *columns;
    int *ranges;
    if (!valid(p))
        return -1;
    columns = column_taps(p);
    ranges = (int *)malloc(sizeof(int) * 2 * (size_t)p->kernel_w);
    if (columns == NULL || ranges == NULL) {
        free(columns);
        free(ranges);
        return -2;
    }
    for (kw = 0; kw < p->kernel_w; kw++)
        tap_columns(p, kw, &ranges[2 * kw], &ranges[2 * kw + 1]);
#ifdef _OPENMP
#pragma omp parallel for num_threads(ei_get_num_threads()) schedule(static) \
    if ((long)p->planes * p->out_height * p->out_width > 32768)
#endif
    for (plane = 0; plane < p->planes; plane++) {
        const float *src = x + (long)plane * p->in_height * p->in_width;
        float *dst = y + (long)plane * p->out_height * p->out_width;
        int oh, ow;
        for (oh = 0; oh < p->out_height; oh++) {
            taps th = window(oh, p->stride_h, p->pad_top, p->pad_bottom, p->kernel_h,
                             p->dilation_h, p->in_height);
            int row0 = oh * p->stride_h - p->pad_top;
            float *out = dst + (long)oh * p->out_width;
            sum_row(p, src, &th, row0, ranges, out);
            for (ow = 0; ow < p->out_width; ow++) {
                /* taps inside the input are contiguous in k */
                int count = p->count_include_pad
                                ? th.padded_taps * columns[ow].padded_taps
                                : (th.last - th.first) * (columns[ow].last - columns[ow].first);
                out[ow] = count > 0 ? out[ow] / (float)count : NAN;
            }
        }
    }
    free(columns);
    free(ranges);
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

void ei_global_avg_pool(int planes, int size, const float *x, float *y)
{
    int plane;
#ifdef _OPENMP
#pragma omp parallel for num_threads(ei_get_num_threads()) schedule(static) if (planes > 64)
#endif
    for (plane = 0; plane < planes; plane++) {
        const float *src = x + (long)plane * size;
        /* four partial sums: vectorises without reassociating under -O3 */
        float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        int i = 0;
        for (; i + 4 <= size; i += 4) {
            s[0] += src[i];
            s[1] += src[i + 1];
            s[2] += src[i + 2];
            s[3] += src[i + 3];
        }
        for (; i < size; i++)
            s[0] += src[i];
        y[plane] = ((s[0] + s[1]) + (s[2] + s[3])) / (float)size;
    }
}
