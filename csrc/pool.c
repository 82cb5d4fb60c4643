#include "pool.h"

#include <math.h>
#include <stdlib.h>

#include "scratch.h"
#include "threads.h"
#include "vec.h"

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
#define MAX_OF(acc, v) ((((v) > (acc)) | ((v) != (v))) ? (v) : (acc))

/* dst[c] = MAX_OF(a[c], b[c]) for c < n. Four lanes at a time where the
 * compiler has vector extensions (SSE2 on any x86-64, NEON on ARM): scalar,
 * the NaN test is a branch per tap that real data mispredicts half the time. */
static void max_of_rows(float *dst, const float *a, const float *b, int n)
{
    int c = 0;
#if EI_HAVE_VECTOR_EXTENSIONS
    for (; c + 4 <= n; c += 4) {
        const ei_f32x4 va = *(const ei_f32x4 *)(a + c), vb = *(const ei_f32x4 *)(b + c);
        const ei_i32x4 take_b = (vb > va) | (vb != vb);
        *(ei_f32x4 *)(dst + c) = (ei_f32x4)((take_b & (ei_i32x4)vb) | (~take_b & (ei_i32x4)va));
    }
#endif
    for (; c < n; c++)
        dst[c] = MAX_OF(a[c], b[c]);
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

/* Max pooling, plane by plane: the plane is padded once with -inf into a
 * per-thread block (covering every window, ceil mode's included), then each
 * output row is the running max of its kh padded rows (one contiguous pass
 * the compiler vectorises) followed by a strided max across kw columns. The
 * row-by-row tap sweep used for averages spent its time in loop set-up on
 * the small maps of real models: 128 planes of 8x8 took 130 us, now ~10. */
static int max_pool2d_padded(const ei_pool2d_params *p, const float *x, float *y)
{
    const int hp = (p->out_height - 1) * p->stride_h + (p->kernel_h - 1) * p->dilation_h + 1;
    const int wp = (p->out_width - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
    const int span = (p->out_width - 1) * p->stride_w + 1; /* first taps of the windows */
    const double work = (double)p->planes * hp * wp * (p->kernel_h + 1);
    int status = 0;
    if (p->out_height == 0 || p->out_width == 0)
        return 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(ei_get_num_threads()) if (work > 262144.0) \
    reduction(min : status)
#endif
    {
        float *padded = (float *)ei_scratch(EI_SCRATCH_POOL,
                                            sizeof(float) * ((size_t)hp * wp + 2 * (size_t)wp));
        float *rowmax = padded + (size_t)hp * wp, *across = rowmax + wp;
        int plane;
        if (padded == NULL)
            status = -2;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (plane = 0; plane < p->planes; plane++) {
            const float *src = x + (long)plane * p->in_height * p->in_width;
            float *dst = y + (long)plane * p->out_height * p->out_width;
            /* input columns that land inside the padded block */
            const int c0 = p->pad_left, c1 = p->pad_left + p->in_width < wp
                                                  ? p->pad_left + p->in_width
                                                  : wp;
            int r, c, k, oh, ow;
            if (padded == NULL)
                continue;
            for (r = 0; r < hp; r++) {
                const int iy = r - p->pad_top;
                float *row = padded + (size_t)r * wp;
                if (iy < 0 || iy >= p->in_height) {
                    for (c = 0; c < wp; c++)
                        row[c] = -INFINITY;
                    continue;
                }
                for (c = 0; c < c0 && c < wp; c++)
                    row[c] = -INFINITY;
                for (c = c0; c < c1; c++)
                    row[c] = src[(long)iy * p->in_width + (c - c0)];
                for (c = c1 > c0 ? c1 : c0; c < wp; c++)
                    row[c] = -INFINITY;
            }
            for (oh = 0; oh < p->out_height; oh++) {
                const float *top = padded + (size_t)oh * p->stride_h * wp;
                float *out = dst + (long)oh * p->out_width;
                const float *rows = top, *vertical;
                /* down the kh rows, then across kw columns, both at unit
                 * stride; the output takes every stride_w-th column */
                for (k = 1; k < p->kernel_h; k++, rows = rowmax)
                    max_of_rows(rowmax, rows, top + (size_t)k * p->dilation_h * wp, wp);
                vertical = rows;
                for (k = 1; k < p->kernel_w; k++, rows = across)
                    max_of_rows(across, rows, vertical + (size_t)k * p->dilation_w, span);
                for (ow = 0; ow < p->out_width; ow++)
                    out[ow] = rows[(size_t)ow * p->stride_w];
            }
        }
    }
    return status;
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
    if (!valid(p))
        return -1;
    return max_pool2d_padded(p, x, y);
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
