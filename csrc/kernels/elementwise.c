#include "elementwise.h"

#include "threads.h"

/* The last axis in one of three forms: both operands walk it, or one of them
 * stays on one value (a per-channel scale, a bias, a scalar). Each form is a
 * loop the compiler vectorises. */
#define ROW_LOOPS(NAME, EXPR)                                                            \
    static void NAME(int64_t n, const float *a, int64_t sa, const float *b, int64_t sb,  \
                     float *y)                                                           \
    {                                                                                    \
        int64_t i;                                                                       \
        if (sa == 1 && sb == 1) {                                                        \
            for (i = 0; i < n; i++) {                                                    \
                float x = a[i], z = b[i];                                                \
                y[i] = EXPR;                                                             \
            }                                                                            \
        } else if (sa == 1 && sb == 0) {                                                 \
            float z = b[0];                                                              \
            for (i = 0; i < n; i++) {                                                    \
                float x = a[i];                                                          \
                y[i] = EXPR;                                                             \
            }                                                                            \
        } else if (sa == 0 && sb == 1) {                                                 \
            float x = a[0];                                                              \
            for (i = 0; i < n; i++) {                                                    \
                float z = b[i];                                                          \
                y[i] = EXPR;                                                             \
            }                                                                            \
        } else {                                                                         \
            for (i = 0; i < n; i++) {                                                    \
                float x = a[i * sa], z = b[i * sb];                                      \
                y[i] = EXPR;                                                             \
            }                                                                            \
        }                                                                                \
    }

ROW_LOOPS(row_add, x + z)
ROW_LOOPS(row_sub, x - z)
ROW_LOOPS(row_mul, x * z)
ROW_LOOPS(row_div, x / z)
/* NaN propagates, as numpy's maximum and minimum do */
ROW_LOOPS(row_max, (x != x || x > z) ? x : z)
ROW_LOOPS(row_min, (x != x || x < z) ? x : z)

typedef void (*row_fn)(int64_t, const float *, int64_t, const float *, int64_t, float *);

int ei_binary(int op, int rank, const int64_t *shape, const float *a, const int64_t *a_strides,
              const float *b, const int64_t *b_strides, float *y)
{
    static const row_fn rows[] = {row_add, row_sub, row_mul, row_div, row_max, row_min};
    int64_t outer = 1, inner, r;
    int d;
    row_fn row;
    if (op < EI_BIN_ADD || op > EI_BIN_MIN || rank < 1 || rank > EI_BINARY_MAX_RANK)
        return -1;
    row = rows[op];
    for (d = 0; d < rank - 1; d++)
        outer *= shape[d];
    inner = shape[rank - 1];
#ifdef _OPENMP
#pragma omp parallel for schedule(static) \
    num_threads(ei_threads_for((double)outer, EI_WORK_PER_STREAMED_FLOAT * (double)inner))
#endif
    for (r = 0; r < outer; r++) {
        /* the row's position in the outer axes, last outer axis fastest */
        int64_t rest = r, offset_a = 0, offset_b = 0;
        int k;
        for (k = rank - 2; k >= 0; k--) {
            int64_t index = rest % shape[k];
            rest /= shape[k];
            offset_a += index * a_strides[k];
            offset_b += index * b_strides[k];
        }
        row(inner, a + offset_a, a_strides[rank - 1], b + offset_b, b_strides[rank - 1],
            y + r * inner);
    }
    return 0;
}
