#include "depthwise.h"

#include <string.h>

void ei_depthwise_flat_plan(const ei_conv2d_params *p, int out_height, int out_width,
                            ei_depthwise_flat *plan)
{
    const int sh = p->stride_h, sw = p->stride_w;
    const int padded_h = (out_height - 1) * sh + (p->kernel_h - 1) * p->dilation_h + 1;
    const int padded_w = (out_width - 1) * sw + (p->kernel_w - 1) * p->dilation_w + 1;
    size_t floats;
    plan->conv = p;
    plan->out_height = out_height;
    plan->out_width = out_width;
    plan->sub_height = (padded_h + sh - 1) / sh;
    plan->pitch = (padded_w + sw - 1) / sw;
    plan->run = (out_height - 1) * plan->pitch + out_width;
    plan->block = (size_t)sh * sw * plan->sub_height * plan->pitch;
    floats = plan->block + EI_ROW_SLACK + (size_t)plan->run;
    plan->scratch_bytes = sizeof(const float *) * (size_t)p->kernel_h +
                          sizeof(ptrdiff_t) * (size_t)p->kernel_w + sizeof(float) * floats;
}

void ei_split_columns(const float *restrict src, int end, int pad_left, int sw,
                      size_t sub_size, float *restrict row)
{
    int b, c;
    if (sw == 2) {
        /* the common stride as one even/odd pass, which compilers vectorise */
        float *restrict even = row + (pad_left + 1) / 2;
        float *restrict odd = row + sub_size + pad_left / 2;
        const int half = end / 2;
        if (pad_left % 2) {
            float *restrict t = even;
            even = odd;
            odd = t;
        }
        for (c = 0; c < half; c++) {
            even[c] = src[2 * c];
            odd[c] = src[2 * c + 1];
        }
        if (end % 2)
            even[half] = src[end - 1];
        return;
    }
    for (b = 0; b < sw; b++) {
        float *restrict dst = row + (size_t)b * sub_size;
        const int first = ((b - pad_left) % sw + sw) % sw;
        int at = (first + pad_left) / sw;
        for (c = first; c < end; c += sw)
            dst[at++] = src[c];
    }
}

/* Copies the input plane into the interior of the phase-split block. The
 * border stays as the zeroed scratch left it: every plane of a call has the
 * same geometry, so data never lands where a border zero belongs. */
static void fill_interior(const ei_depthwise_flat *plan, const float *restrict x,
                          float *restrict block)
{
    const ei_conv2d_params *p = plan->conv;
    const int sh = p->stride_h, sw = p->stride_w, pitch = plan->pitch;
    const size_t sub_size = (size_t)plan->sub_height * pitch;
    const int cols_used = sw * pitch;
    /* input columns [0, end) land inside a padded row */
    const int end = cols_used - p->pad_left < p->in_width ? cols_used - p->pad_left : p->in_width;
    int iy, c;
    /* padded row r = iy + pad_top is row q of row phase a; the rows past
     * sh * sub_height are read by no tap */
    int a = p->pad_top % sh, q = p->pad_top / sh;
    for (iy = 0; iy < p->in_height && q < plan->sub_height; iy++) {
        const float *restrict src = x + (size_t)iy * p->in_width;
        float *restrict row = block + (size_t)a * sw * sub_size + (size_t)q * pitch;
        if (sw == 1) {
            float *restrict dst = row + p->pad_left;
            for (c = 0; c < end; c++)
                dst[c] = src[c];
        } else {
            ei_split_columns(src, end, p->pad_left, sw, sub_size, row);
        }
        if (++a == sh) {
            a = 0;
            q++;
        }
    }
}

void ei_depthwise_flat_bind(const ei_depthwise_flat *plan, void *scratch)
{
    const ei_conv2d_params *p = plan->conv;
    const int sh = p->stride_h, sw = p->stride_w, pitch = plan->pitch;
    const size_t sub_size = (size_t)plan->sub_height * pitch;
    const float **rows = (const float **)scratch;
    ptrdiff_t *tap = (ptrdiff_t *)(rows + p->kernel_h);
    float *block = (float *)(tap + p->kernel_w);
    int ky, kx;
    memset(block, 0, sizeof(float) * (plan->block + EI_ROW_SLACK));
    for (ky = 0; ky < p->kernel_h; ky++) {
        const int row = ky * p->dilation_h;
        rows[ky] = block + (size_t)(row % sh) * sw * sub_size + (size_t)(row / sh) * pitch;
    }
    for (kx = 0; kx < p->kernel_w; kx++) {
        const int col = kx * p->dilation_w;
        tap[kx] = (ptrdiff_t)(col % sw) * (ptrdiff_t)sub_size + col / sw;
    }
}

void ei_depthwise_flat_plane(const ei_depthwise_flat *plan, const float *x_plane,
                             const float *w, float bias, float *y_plane, void *scratch,
                             ei_row_kernel kernel)
{
    const ei_conv2d_params *p = plan->conv;
    const int pitch = plan->pitch, wo = plan->out_width;
    const float *const *rows = (const float *const *)scratch;
    const ptrdiff_t *tap = (const ptrdiff_t *)(rows + p->kernel_h);
    float *block = (float *)(tap + p->kernel_w);
    float *run_out = block + plan->block + EI_ROW_SLACK;
    const float clamp[2] = {p->lo, p->hi};
    int oy, ox;

    fill_interior(plan, x_plane, block);
    if (pitch == wo) {
        kernel(rows, tap, p->kernel_h, p->kernel_w, w, bias, p->clamp ? clamp : NULL, y_plane,
               plan->run);
        return;
    }
    kernel(rows, tap, p->kernel_h, p->kernel_w, w, bias, p->clamp ? clamp : NULL, run_out,
           plan->run);
    for (oy = 0; oy < plan->out_height; oy++) {
        const float *restrict src = run_out + (size_t)oy * pitch;
        float *restrict dst = y_plane + (size_t)oy * wo;
        for (ox = 0; ox < wo; ox++)
            dst[ox] = src[ox];
    }
}
