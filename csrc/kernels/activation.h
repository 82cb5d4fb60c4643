/* Elementwise activations and softmax over float32 arrays, with the
 * semantics of the ONNX operators of the same names. */
#ifndef EDGEINFER_ACTIVATION_H
#define EDGEINFER_ACTIVATION_H

#include <stddef.h>

typedef enum {
    EI_ACT_RELU = 0,
    EI_ACT_CLIP = 1,         /* min(max(x, alpha), beta) */
    EI_ACT_LEAKY_RELU = 2,   /* x < 0 ? alpha * x : x */
    EI_ACT_SIGMOID = 3,
    EI_ACT_HARD_SIGMOID = 4, /* max(0, min(1, alpha * x + beta)) */
    EI_ACT_HARD_SWISH = 5,   /* x * max(0, min(1, x / 6 + 1 / 2)) */
    EI_ACT_TANH = 6,
    EI_ACT_SILU = 7          /* x * sigmoid(x) */
} ei_activation_kind;

/* y[i] = f(x[i]) for n values; y may be x. Returns -1 for an unknown kind. */
int ei_activation(int kind, size_t n, const float *x, float *y, float alpha, float beta);

/* Softmax along the middle axis of an (outer, axis_len, inner) array; y may be x. */
void ei_softmax(size_t outer, size_t axis_len, size_t inner, const float *x, float *y);

#endif
