/* Plain C loops that compilers vectorise for any target; rounding by the
 * 1.5 x 2^23 trick (round to nearest even in the default rounding mode)
 * after clamping to the output range, where it is exact, rather than rintf,
 * which is a library call on targets without a rounding instruction. */
#include "qdq.h"

#define ROUNDER 12582912.0f

/* v clamped to [lo, hi] (whole numbers, |.| < 2^22) and rounded half to
 * even, as an int; NaN gives lo. */
#define CLAMP_ROUND(v, lo, hi)                                                                 \
    ((int)((((v) > (lo) ? ((v) < (hi) ? (v) : (hi)) : (lo)) + ROUNDER) - ROUNDER))

void ei_quantize_u8(ptrdiff_t n, const float *x, float scale, int zero, uint8_t *y)
{
    const float lo = (float)-zero, hi = (float)(255 - zero);
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        const float v = x[i] / scale;
        y[i] = (uint8_t)(CLAMP_ROUND(v, lo, hi) + zero);
    }
}

void ei_dequantize_u8(ptrdiff_t n, const uint8_t *x, float scale, int zero, float *y)
{
    ptrdiff_t i;
    for (i = 0; i < n; i++)
        y[i] = (float)((int)x[i] - zero) * scale;
}

void ei_qadd_u8(ptrdiff_t n, const uint8_t *a, int a_zero, float a_ratio, const uint8_t *b,
                int b_zero, float b_ratio, int y_zero, uint8_t *y)
{
    const double lo = (double)-y_zero, hi = (double)(255 - y_zero);
    const double rounder = 6755399441055744.0; /* 1.5 x 2^52: whole doubles */
    ptrdiff_t i;
    for (i = 0; i < n; i++) {
        double v = (double)((int)a[i] - a_zero) * a_ratio + (double)((int)b[i] - b_zero) * b_ratio;
        v = v > lo ? (v < hi ? v : hi) : lo;
        y[i] = (uint8_t)((int)((v + rounder) - rounder) + y_zero);
    }
}
