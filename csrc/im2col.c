#include "im2col.h"

#include <string.h>

/* Writes `len` values (src[0], src[step], ... or zeros when src is NULL) to
 * packed row `row` starting at column q, splitting the run where it crosses
 * from one panel to the next. */
static void put_run(float *packed, int rows, int nr, int row, int q, int len, const float *src,
                    int step)
{
    while (len > 0) {
        const int offset = q % nr;
        const int chunk = nr - offset < len ? nr - offset : len;
        float *d = packed + ((size_t)(q / nr) * rows + row) * nr + offset;
        int i;
        if (src == NULL) {
            memset(d, 0, sizeof(float) * chunk);
        } else if (step == 1) {
            memcpy(d, src, sizeof(float) * chunk);
            src += chunk;
        } else {
            for (i = 0; i < chunk; i++)
                d[i] = src[i * step];
            src += chunk * step;
        }
        q += chunk;
        len -= chunk;
    }
}

/* First output column whose input column ox*stride + offset is >= 0 (and,
 * with limit, < limit): ceil division that also works below zero. */
static int first_col_at_least(int offset, int stride, int bound)
{
    int need = bound - offset; /* ox * stride >= need */
    if (need <= 0)
        return 0;
    return (need + stride - 1) / stride;
}

void ei_im2col_packed(const ei_im2col_src *s, int p0, int count, int nr, float *packed)
{
    const int taps = s->kernel_h * s->kernel_w;
    const int rows = s->channels * taps;
    const int wo = s->out_width;
    const size_t plane = (size_t)s->height * s->width;
    const int padded = (count + nr - 1) / nr * nr;
    int row;

    for (row = 0; row < rows; row++) {
        const int c = row / taps, ky = row % taps / s->kernel_w, kx = row % s->kernel_w;
        const float *channel = s->x + plane * c;
        const int col_offset = kx * s->dilation_w - s->pad_left;
        /* output columns whose input column lies in [0, width) */
        int lo = first_col_at_least(col_offset, s->stride_w, 0);
        int hi = first_col_at_least(col_offset, s->stride_w, s->width);
        int p = p0;
        if (lo > wo)
            lo = wo;
        if (hi > wo)
            hi = wo;
        if (hi < lo)
            hi = lo;
        while (p < p0 + count) {
            const int oy = p / wo, ox = p % wo;
            const int end = p0 + count - p < wo - ox ? ox + (p0 + count - p) : wo;
            const int iy = oy * s->stride_h + ky * s->dilation_h - s->pad_top;
            const int q = p - p0;
            if (iy < 0 || iy >= s->height) {
                put_run(packed, rows, nr, row, q, end - ox, NULL, 0);
            } else {
                const float *line = channel + (size_t)iy * s->width;
                const int a = ox > lo ? ox : lo, b = end < hi ? end : hi;
                if (a >= b) {
                    put_run(packed, rows, nr, row, q, end - ox, NULL, 0);
                } else {
                    put_run(packed, rows, nr, row, q, a - ox, NULL, 0);
                    put_run(packed, rows, nr, row, q + a - ox, b - a,
                            line + a * s->stride_w + col_offset, s->stride_w);
                    put_run(packed, rows, nr, row, q + b - ox, end - b, NULL, 0);
                }
            }
            p += end - ox;
        }
        if (padded > count)
            put_run(packed, rows, nr, row, count, padded - count, NULL, 0);
    }
}
