/* Plain C loops that compilers vectorise for any target; rounding by the
 * 1.5 x 2^23 trick (round to nearest even in the default rounding mode)
 * after clamping to the output range, where it is exact, rather than rintf,
 * which is a library call on targets without a rounding instruction. */
#include "qdq.h"

/* QuantizedAdd's two products must be rounded apart, as numpy does: the
 * build contracts a * b + c into fused multiply-adds elsewhere. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#define EI_NO_CONTRACT
#elif defined(__GNUC__)
#define EI_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define EI_NO_CONTRACT
#endif

#define ROUNDER 12582912.0f

/* v clamped to [lo, hi] (whole numbers, |.| < 2^22) and rounded half to
 * even, as an int; NaN gives lo. A macro, so that it inlines into
 * ei_qadd_u8 despite that function's own optimisation attribute. */
#define CLAMP_ROUND(v, lo, hi)                                                                 \
    ((int)((((v) > (lo) ? ((v) < (hi) ? (v) : (hi)) : (lo)) + ROUNDER) - ROUNDER))

void ei_quantize_u8(long n, const float *x, float scale, int zero, uint8_t *y)
{
    const float lo = (float)-zero, hi = (float)(255 - zero);
    long i;
    for (i = 0; i < n; i++) {
        const float v = x[i] / scale;
        y[i] = (uint8_t)(CLAMP_ROUND(v, lo, hi) + zero);
    }
}

void ei_dequantize_u8(long n, const uint8_t *x, float scale, int zero, float *y)
{
    long i;
    for (i = 0; i < n; i++)
        y[i] = (float)((int)x[i] - zero) * scale;
}

EI_NO_CONTRACT void ei_qadd_u8(long n, const uint8_t *a, int a_zero, float a_ratio,
                               const uint8_t *b, int b_zero, float b_ratio, int y_zero, uint8_t *y)
{
    const float lo = (float)-y_zero, hi = (float)(255 - y_zero);
    long i;
    for (i = 0; i < n; i++) {
        const float pa = (float)((int)a[i] - a_zero) * a_ratio;
        const float pb = (float)((int)b[i] - b_zero) * b_ratio;
        const float sum = pa + pb;
        y[i] = (uint8_t)(CLAMP_ROUND(sum, lo, hi) + y_zero);
    }
}
