#include "pool.h"

#include <float.h>
#include <math.h>

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

int ei_max_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    int plane;
    if (!valid(p))
        return -1;
#pragma omp parallel for num_threads(ei_get_num_threads()) schedule(static)
    for (plane = 0; plane < p->planes; plane++) {
        const float *src = x + (long)plane * p->in_height * p->in_width;
        float *dst = y + (long)plane * p->out_height * p->out_width;
        int oh, ow, kh, kw;
        for (oh = 0; oh < p->out_height; oh++) {
            taps th = window(oh, p->stride_h, p->pad_top, p->pad_bottom, p->kernel_h,
                             p->dilation_h, p->in_height);
            int row0 = oh * p->stride_h - p->pad_top;
            for (ow = 0; ow < p->out_width; ow++) {
                taps tw = window(ow, p->stride_w, p->pad_left, p->pad_right, p->kernel_w,
                                 p->dilation_w, p->in_width);
                int col0 = ow * p->stride_w - p->pad_left;
                float best = -INFINITY;
                for (kh = th.first; kh < th.last; kh++) {
                    const float *row = src + (long)(row0 + kh * p->dilation_h) * p->in_width;
                    for (kw = tw.first; kw < tw.last; kw++) {
                        float v = row[col0 + kw * p->dilation_w];
                        /* NaN wins, as in the ONNX reference */
                        if (v > best || v != v)
                            best = v;
                    }
                }
                dst[(long)oh * p->out_width + ow] = best;
            }
        }
    }
    return 0;
}

int ei_avg_pool2d(const ei_pool2d_params *p, const float *x, float *y)
{
    int plane;
    if (!valid(p))
        return -1;
#pragma omp parallel for num_threads(ei_get_num_threads()) schedule(static)
    for (plane = 0; plane < p->planes; plane++) {
        const float *src = x + (long)plane * p->in_height * p->in_width;
        float *dst = y + (long)plane * p->out_height * p->out_width;
        int oh, ow, kh, kw;
        for (oh = 0; oh < p->out_height; oh++) {
            taps th = window(oh, p->stride_h, p->pad_top, p->pad_bottom, p->kernel_h,
                             p->dilation_h, p->in_height);
            int row0 = oh * p->stride_h - p->pad_top;
            for (ow = 0; ow < p->out_width; ow++) {
                taps tw = window(ow, p->stride_w, p->pad_left, p->pad_right, p->kernel_w,
                                 p->dilation_w, p->in_width);
                int col0 = ow * p->stride_w - p->pad_left;
                float sum = 0.0f;
                int count;
                for (kh = th.first; kh < th.last; kh++) {
                    const float *row = src + (long)(row0 + kh * p->dilation_h) * p->in_width;
                    for (kw = tw.first; kw < tw.last; kw++)
                        sum += row[col0 + kw * p->dilation_w];
                }
                if (p->count_include_pad) {
                    count = th.padded_taps * tw.padded_taps;
                } else {
                    /* taps inside the input are contiguous in k */
                    count = (th.last - th.first) * (tw.last - tw.first);
                }
                dst[(long)oh * p->out_width + ow] = count > 0 ? sum / (float)count : NAN;
            }
        }
    }
    return 0;
}

void ei_global_avg_pool(int planes, int size, const float *x, float *y)
{
    int plane;
#pragma omp parallel for num_threads(ei_get_num_threads()) schedule(static) if (planes > 64)
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
