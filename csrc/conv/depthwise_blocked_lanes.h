/* One vector unit's channel-blocked depthwise convolution (see
 * depthwise_blocked.h), included by depthwise_blocked.c once per unit. The
 * includer defines VEC and VECI (its integer twin), VL, BLOCK_ATTR (a target
 * attribute, or nothing) and BLOCK_FN, the name of the block function, and
 * EI_VEC_NEON_INTRINSICS where VEC is an intrinsics type (vec_ops.h). All of
 * them are undefined at the end. No include guard on purpose. */

#include "vec_ops.h"

#define BLOCK_CAT__(a, b) a##b
#define BLOCK_CAT_(a, b) BLOCK_CAT__(a, b)
#define PIXELS_FN BLOCK_CAT_(BLOCK_FN, _pixels)
#define ROWS_FN BLOCK_CAT_(BLOCK_FN, _rows)
#define RUN_FN BLOCK_CAT_(BLOCK_FN, _run)
#define BANDS_FN BLOCK_CAT_(BLOCK_FN, _bands)

/* n output pixels of a row, each a vector of VL channels: one accumulator
 * per pixel, so a tap's weight vector is loaded once for all of them. `in`
 * is the first pixel's first tap. The column stride and dilation are
 * constants in the common cases, so that every load's address is a register
 * plus a constant. */
static inline __attribute__((always_inline)) BLOCK_ATTR void
PIXELS_FN(const float *in, ptrdiff_t row_step, const int kh, const int kw, const int sw,
          const int dw, const float *wt, const VEC vb, const int clamp, const VEC lo,
          const VEC hi, float *out, const int n)
{
    VEC acc[EI_BLOCK_PIXELS];
    int j, ky, kx;
    for (j = 0; j < n; j++)
        acc[j] = vb;
    for (ky = 0; ky < kh; ky++) {
        const float *r = in + ky * row_step;
        for (kx = 0; kx < kw; kx++) {
            const VEC wv = EI_VLOAD(wt + (ky * kw + kx) * VL);
            const float *p = r + kx * dw * VL;
            for (j = 0; j < n; j++)
                acc[j] = EI_VFMA(acc[j], wv, EI_VLOAD(p + j * sw * VL));
        }
    }
    for (j = 0; j < n; j++) {
        if (clamp)
            acc[j] = EI_VMIN(EI_VMAX(acc[j], lo), hi);
        EI_VSTORE(out + j * VL, acc[j]);
    }
}

/* `rows` output rows of the block into out ([rows][out_width][VL]), from
 * the padded input rows at `in`, a row at a time in groups of up to
 * EI_BLOCK_PIXELS. */
static inline __attribute__((always_inline)) BLOCK_ATTR void
ROWS_FN(const ei_depthwise_blocked *plan, const float *in, const float *wt, const float *bias,
        float *out, const int rows, const int kh, const int kw, const int sw, const int dw)
{
    const ei_conv2d_params *p = plan->conv;
    const int wo = plan->out_width;
    const ptrdiff_t row_step = (ptrdiff_t)p->dilation_h * plan->padded_width * VL;
    const ptrdiff_t in_row = (ptrdiff_t)p->stride_h * plan->padded_width * VL;
    const VEC vb = EI_VLOAD(bias);
    const VEC lo = EI_VSET1(p->lo), hi = EI_VSET1(p->hi);
    const int clamp = p->clamp;
    int oy, ox;
    for (oy = 0; oy < rows; oy++) {
        const float *row = in + oy * in_row;
        float *o = out + (size_t)oy * wo * VL;
        for (ox = 0; ox + EI_BLOCK_PIXELS <= wo; ox += EI_BLOCK_PIXELS)
            PIXELS_FN(row + (ptrdiff_t)ox * sw * VL, row_step, kh, kw, sw, dw, wt, vb, clamp, lo,
                      hi, o + (size_t)ox * VL, EI_BLOCK_PIXELS);
        row += (ptrdiff_t)ox * sw * VL;
        o += (size_t)ox * VL;
        /* the row's last pixels, with as many accumulators as there are pixels */
        switch (wo - ox) {
#define BLOCK_TAIL(n)                                                                             \
    case n:                                                                                       \
        PIXELS_FN(row, row_step, kh, kw, sw, dw, wt, vb, clamp, lo, hi, o, n);                    \
        break;
            BLOCK_TAIL(1)
            BLOCK_TAIL(2)
            BLOCK_TAIL(3)
            BLOCK_TAIL(4)
            BLOCK_TAIL(5)
            BLOCK_TAIL(6)
            BLOCK_TAIL(7)
#undef BLOCK_TAIL
        default:
            break;
        }
    }
}

/* Output rows [0, rows) of the block from the padded rows at s->input, with
 * the kernel shape's specialisation. */
static inline __attribute__((always_inline)) BLOCK_ATTR void
RUN_FN(const ei_depthwise_blocked *plan, const blocked_scratch *s, int rows)
{
    const ei_conv2d_params *p = plan->conv;
    const int sw = p->stride_w, undilated = p->dilation_w == 1;
#define BLOCK_ROWS(kh, kw, sw, dw)                                                                \
    ROWS_FN(plan, s->input, s->weights, s->bias, s->output, rows, kh, kw, sw, dw)
    if (p->kernel_h == 3 && p->kernel_w == 3 && sw == 1 && undilated)
        BLOCK_ROWS(3, 3, 1, 1);
    else if (p->kernel_h == 3 && p->kernel_w == 3 && sw == 2 && undilated)
        BLOCK_ROWS(3, 3, 2, 1);
    else if (p->kernel_h == 5 && p->kernel_w == 5 && sw == 1 && undilated)
        BLOCK_ROWS(5, 5, 1, 1);
    else if (p->kernel_h == 5 && p->kernel_w == 5 && sw == 2 && undilated)
        BLOCK_ROWS(5, 5, 2, 1);
    else
        BLOCK_ROWS(p->kernel_h, p->kernel_w, sw, p->dilation_w);
#undef BLOCK_ROWS
}

/* Output rows [oy0, oy1) of the block in bands of plan->band_rows output
 * rows: each fills the padded
 * input rows it reads, computes its rows and transposes them out. Out of
 * line: inlined beside the whole block's fill, the loop cost the whole-block
 * layers on small maps 5-20 % (3x3/2 from 28x28: 1.21x). */
static BLOCK_ATTR __attribute__((noinline)) void BANDS_FN(const ei_depthwise_blocked *plan,
                                                          const blocked_scratch *s,
                                                          const float *const *src,
                                                          float *const *dst, int valid,
                                                          int oy0, int oy1)
{
    const ei_conv2d_params *p = plan->conv;
    float *band_dst[VL];
    int oy, l;
    for (oy = oy0; oy < oy1; oy += plan->band_rows) {
        const int rows = oy1 - oy < plan->band_rows ? oy1 - oy : plan->band_rows;
        fill_band(plan, src, VL, oy * p->stride_h,
                  rows == plan->band_rows ? plan->band_height : band_height_for(p, rows),
                  s->input);
        RUN_FN(plan, s, rows);
        for (l = 0; l < VL; l++)
            band_dst[l] = dst[l] + (size_t)oy * plan->out_width;
        lanes_to_planes(s->output, VL, (size_t)rows * plan->out_width, band_dst, valid);
    }
}

static BLOCK_ATTR void BLOCK_FN(const ei_depthwise_blocked *plan, const float *x, const float *w,
                                const float *bias, int m0, int oy0, int oy1, float *y,
                                float *scratch)
{
    const ei_conv2d_params *p = plan->conv;
    const int multiplier = p->out_channels / p->groups;
    const int taps = p->kernel_h * p->kernel_w;
    const size_t in_plane = (size_t)p->in_height * p->in_width;
    const size_t out_plane = (size_t)plan->out_height * plan->out_width;
    const int valid = p->out_channels - m0 < VL ? p->out_channels - m0 : VL;
    blocked_scratch s = scratch_layout(plan, scratch);
    const float *src[VL], *taps_of[VL];
    float *dst[VL];
    int l;

    /* lanes past the last channel repeat it: computed, never stored */
    for (l = 0; l < VL; l++) {
        const int m = m0 + (l < valid ? l : valid - 1);
        src[l] = x + (size_t)(multiplier == 1 ? m : m / multiplier) * in_plane;
        taps_of[l] = w + (size_t)m * taps;
        dst[l] = y + (size_t)m * out_plane;
        s.bias[l] = bias != NULL ? bias[m] : 0.0f;
    }
    planes_to_lanes(taps_of, (size_t)taps, taps, 0, VL, s.weights);
    if (plan->band_rows < plan->out_height) {
        BANDS_FN(plan, &s, src, dst, valid, oy0, oy1);
        return;
    }
    (void)oy0, (void)oy1; /* one band: the whole map */
    fill_block(plan, src, VL, s.input);
    RUN_FN(plan, &s, plan->out_height);
    lanes_to_planes(s.output, VL, out_plane, dst, valid);
}

#undef PIXELS_FN
#undef ROWS_FN
#undef RUN_FN
#undef BANDS_FN
#undef BLOCK_CAT_
#undef BLOCK_CAT__
#undef VEC
#undef VECI
#undef VL
#undef BLOCK_ATTR
#undef BLOCK_FN
#undef EI_VEC_NEON_INTRINSICS
