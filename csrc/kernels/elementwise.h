/* Broadcasting binary arithmetic over float32 arrays (ONNX Add, Sub, Mul,
 * Div, Max, Min with numpy-style broadcasting). */
#ifndef EDGEINFER_ELEMENTWISE_H
#define EDGEINFER_ELEMENTWISE_H

#include <stdint.h>

typedef enum {
    EI_BIN_ADD = 0,
    EI_BIN_SUB = 1,
    EI_BIN_MUL = 2,
    EI_BIN_DIV = 3,
    EI_BIN_MAX = 4,
    EI_BIN_MIN = 5
} ei_binary_op;

#define EI_BINARY_MAX_RANK 8

/* y (contiguous, `shape`) = a op b, where a and b are read with the given
 * strides in elements (0 along a broadcast axis). Callers merge axes first so
 * that the last axis is long. Returns -1 for an unknown op or rank. */
int ei_binary(int op, int rank, const int64_t *shape, const float *a, const int64_t *a_strides,
              const float *b, const int64_t *b_strides, float *y);

#endif
