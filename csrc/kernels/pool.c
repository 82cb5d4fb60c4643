#include "pool.h"

#include <math.h>
#include <stdlib.h>

#include "threads.h"

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

/* NaN wins, as in the ONNX reference */
#define MAX_OF(acc, v) (((v) > (acc) || (v) != (v)) ? (v) : (acc))

static void max_row(const ei_pool2d_params *p, const float *src, const taps *th, int row0,
                    const int *ranges, float *out)
{
    int ow, kh, kw;
    for (ow = 0; ow < p->out_width; ow++)
        out[ow] = -INFINITY;
    for (kh = th->first; kh < th->last; kh++) {
        const float *row = src + (long)(row0 + kh * p->dilation_h) * p->in_width;
        for (kw = 0; kw < p->kernel_w; kw++) {
            int lo = ranges[2 * kw], hi = ranges[2 * kw + 1];
            const float *in = row + (long)lo * p->stride_w + kw * p->dilation_w - p->pad_left;
            float *acc = out + lo;
            int n = hi - lo;
            if (p->stride_w == 1) {
                for (ow = 0; ow < n; ow++)
                    acc[ow] = MAX_OF(acc[ow], in[ow]);
            } else {
                for (ow = 0; ow < n; ow++)
                    acc[ow] = MAX_OF(acc[ow], in[(long)ow * p->stride_w]);
            }
        }
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

static int pool2d(const ei_pool2d_params *p, const float *x, float *y, int average)
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
            if (!average) {
                max_row(p, src, &th, row0, ranges, out);
                continue;
            }
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
    return pool2d(p, x, y, 0);
}

int ei_avg_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    return pool2d(p, x, y, 1);
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
