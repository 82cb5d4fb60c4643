/* The per-tensor uint8 steps of a QDQ-quantised model that are not
 * convolutions: QuantizeLinear, DequantizeLinear and the residual Add of two
 * uint8 tensors (native/quantized.py's QuantizedAdd), each one pass in float32
 * with ONNX's rounding (half to even) and saturation. */
#ifndef EDGEINFER_QDQ_H
#define EDGEINFER_QDQ_H

#include <stdint.h>

/* y = saturate(round(x / scale) + zero) to 0..255; NaN becomes 0. */
void ei_quantize_u8(long n, const float *x, float scale, int zero, uint8_t *y);

/* y = (x - zero) * scale. */
void ei_dequantize_u8(long n, const uint8_t *x, float scale, int zero, float *y);

/* y = saturate(round((a - a_zero) * a_ratio + (b - b_zero) * b_ratio) + y_zero),
 * the two products rounded to float32 each before they are added (never
 * one fused multiply-add), as the numpy twin computes them. */
void ei_qadd_u8(long n, const uint8_t *a, int a_zero, float a_ratio, const uint8_t *b,
                int b_zero, float b_ratio, int y_zero, uint8_t *y);

#endif
