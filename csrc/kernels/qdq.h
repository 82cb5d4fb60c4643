/* The per-tensor uint8 steps of a QDQ-quantised model that are not
 * convolutions: QuantizeLinear, DequantizeLinear and the residual Add of two
 * uint8 tensors (native/quantized.py's QuantizedAdd), each one pass in float32
 * with ONNX's rounding (half to even) and saturation. */
#ifndef EDGEINFER_QDQ_H
#define EDGEINFER_QDQ_H

#include <stddef.h>
#include <stdint.h>

/* y = saturate(round(x / scale) + zero) to 0..255; NaN becomes 0. */
void ei_quantize_u8(ptrdiff_t n, const float *x, float scale, int zero, uint8_t *y);

/* ei_quantize_u8 of x (channels, pixels) planes into y (pixels, channels):
 * where a QuantizeLinear enters the int8 region, which runs channels-last. */
void ei_quantize_u8_nhwc(long channels, long pixels, const float *x, float scale, int zero,
                         uint8_t *y);

/* y = (x - zero) * scale. */
void ei_dequantize_u8(ptrdiff_t n, const uint8_t *x, float scale, int zero, float *y);

/* y = saturate(round((a - a_zero) * a_ratio + (b - b_zero) * b_ratio) + y_zero)
 * with the float32 ratios, in float64: each product is exact there (9 bits
 * times 24), so the sum is rounded once, and a fused multiply-add (which a
 * compiler may make of it) gives the same sum. */
void ei_qadd_u8(ptrdiff_t n, const uint8_t *a, int a_zero, float a_ratio, const uint8_t *b,
                int b_zero, float b_ratio, int y_zero, uint8_t *y);

#endif
