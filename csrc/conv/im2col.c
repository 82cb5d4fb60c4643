#include "im2col.h"

#include <stdlib.h>

#if defined(EI_NO_SIMD)
#elif defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define EVEN_LANES_SSE2 1
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#define EVEN_LANES_NEON 1
#endif

/* A run of output positions within one output row, and where the run starts
 * within its panel. A panel of nr positions covers a few such runs. */
typedef struct {
    int oy, ox, len, offset;
} run;

/* First output column whose input column ox * stride + offset reaches bound
 * (ceil division that also holds below zero). */
static int first_col_reaching(int offset, int stride, int bound)
{
    const int need = bound - offset;
    return need <= 0 ? 0 : (need + stride - 1) / stride;
}

static void zero(float *restrict d, int n)
{
    int i;
    for (i = 0; i < n; i++)
        d[i] = 0.0f;
}

static void copy(float *restrict d, const float *restrict s, int n, int step)
{
    int i;
    if (step == 1) {
        for (i = 0; i < n; i++)
            d[i] = s[i];
    } else if (step == 2) { /* stride-2 stems and downsampling: even lanes of pairs */
        i = 0;
        /* strictly below n - 4: the last pair read stays inside the run */
#if defined(EVEN_LANES_SSE2)
        for (; i + 4 < n; i += 4)
            _mm_storeu_ps(d + i, _mm_shuffle_ps(_mm_loadu_ps(s + 2 * i), _mm_loadu_ps(s + 2 * i + 4),
                                                _MM_SHUFFLE(2, 0, 2, 0)));
#elif defined(EVEN_LANES_NEON)
        for (; i + 4 < n; i += 4)
            vst1q_f32(d + i, vld2q_f32(s + 2 * i).val[0]);
#endif
        for (; i < n; i++)
            d[i] = s[2 * i];
    } else {
        for (i = 0; i < n; i++)
            d[i] = s[i * step];
    }
}

int ei_im2col_packed(const ei_im2col_src *s, int p0, int count, int nr, int vl, float *packed)
{
    const int taps = s->kernel_h * s->kernel_w;
    const int rows = s->channels * taps;
    const int wo = s->out_width;
    const size_t plane = (size_t)s->height * s->width;
    /* per kernel column: input column offset and the output columns whose
     * input column lies inside the image */
    int *col_offset = (int *)malloc(sizeof(int) * 3 * (size_t)s->kernel_w);
    run *runs = (run *)malloc(sizeof(run) * (size_t)(nr + 1));
    int *col_lo, *col_hi;
    int q0, kx;

    if (col_offset == NULL || runs == NULL) {
        free(col_offset);
        free(runs);
        return -2;
    }
    col_lo = col_offset + s->kernel_w;
    col_hi = col_lo + s->kernel_w;
    for (kx = 0; kx < s->kernel_w; kx++) {
        const int off = kx * s->dilation_w - s->pad_left;
        int lo = first_col_reaching(off, s->stride_w, 0);
        int hi = first_col_reaching(off, s->stride_w, s->width);
        lo = lo < wo ? lo : wo;
        hi = hi < wo ? hi : wo;
        col_offset[kx] = off;
        col_lo[kx] = lo;
        col_hi[kx] = hi > lo ? hi : lo;
    }

    for (q0 = 0; q0 < count; q0 += nr) {
        const int n = count - q0 < nr ? count - q0 : nr;
        const int width = n == nr ? nr : (n + vl - 1) / vl * vl;
        float *panel = packed + (size_t)q0 * rows;
        int n_runs = 0, q = 0, row, c = 0, ky = 0;
        while (q < n) {
            const int p = p0 + q0 + q;
            run *r = &runs[n_runs++];
            r->oy = p / wo;
            r->ox = p % wo;
            r->len = wo - r->ox < n - q ? wo - r->ox : n - q;
            r->offset = q;
            q += r->len;
        }
        kx = 0;
        for (row = 0; row < rows; row++) {
            float *d = panel + (size_t)row * width;
            const float *channel = s->x + plane * c;
            const int lo = col_lo[kx], hi = col_hi[kx], off = col_offset[kx];
            int i;
            for (i = 0; i < n_runs; i++) {
                const run *r = &runs[i];
                const int iy = r->oy * s->stride_h + ky * s->dilation_h - s->pad_top;
                float *o = d + r->offset;
                if (iy < 0 || iy >= s->height) {
                    zero(o, r->len);
                } else {
                    const int end = r->ox + r->len;
                    int a = r->ox > lo ? r->ox : lo, b = end < hi ? end : hi;
                    if (b < a)
                        b = a = r->ox;
                    zero(o, a - r->ox);
                    copy(o + (a - r->ox), channel + (size_t)iy * s->width + a * s->stride_w + off,
                         b - a, s->stride_w);
                    zero(o + (b - r->ox), end - b);
                }
            }
            zero(d + n, width - n);
            if (++kx == s->kernel_w) {
                kx = 0;
                if (++ky == s->kernel_h) {
                    ky = 0;
                    c++;
                }
            }
        }
    }
    free(col_offset);
    free(runs);
    return 0;
}
