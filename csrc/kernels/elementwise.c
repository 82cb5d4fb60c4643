#include "elementwise.h"

#include <limits.h>

#include "thread_pool.h"
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

/* A binary step's arguments, as its tasks read them. */
typedef struct {
    row_fn row;
    int rank;
    const int64_t *shape, *a_strides, *b_strides;
    const float *a, *b;
    float *y;
    int64_t outer, inner, rows_per_task;
} binary_step;

static int binary_task(void *ctx, int task, int thread)
{
    const binary_step *s = (const binary_step *)ctx;
    const int rank = s->rank;
    const int64_t *shape = s->shape;
    const int64_t end = (int64_t)(task + 1) * s->rows_per_task;
    int64_t r;
    (void)thread;
    for (r = (int64_t)task * s->rows_per_task; r < end && r < s->outer; r++) {
        /* the row's position in the outer axes, last outer axis fastest */
        int64_t rest = r, offset_a = 0, offset_b = 0;
        int k;
        for (k = rank - 2; k >= 0; k--) {
            int64_t index = rest % shape[k];
            rest /= shape[k];
            offset_a += index * s->a_strides[k];
            offset_b += index * s->b_strides[k];
        }
        s->row(s->inner, s->a + offset_a, s->a_strides[rank - 1], s->b + offset_b,
               s->b_strides[rank - 1], s->y + r * s->inner);
    }
    return 0;
}

int ei_binary(int op, int rank, const int64_t *shape, const float *a, const int64_t *a_strides,
              const float *b, const int64_t *b_strides, float *y)
{
    static const row_fn rows[] = {row_add, row_sub, row_mul, row_div, row_max, row_min};
    binary_step s;
    int64_t outer = 1;
    int d;
    if (op < EI_BIN_ADD || op > EI_BIN_MIN || rank < 1 || rank > EI_BINARY_MAX_RANK)
        return -1;
    for (d = 0; d < rank - 1; d++)
        outer *= shape[d];
    s.row = rows[op];
    s.rank = rank;
    s.shape = shape;
    s.a_strides = a_strides;
    s.b_strides = b_strides;
    s.a = a;
    s.b = b;
    s.y = y;
    s.outer = outer;
    s.inner = shape[rank - 1];
    /* a task per row, unless there are more rows than a task count holds */
    s.rows_per_task = outer > INT_MAX ? outer / INT_MAX + 1 : 1;
    return ei_parallel_for(
        (int)((outer + s.rows_per_task - 1) / s.rows_per_task),
        ei_threads_for((double)outer, EI_WORK_PER_STREAMED_FLOAT * (double)s.inner),
        binary_task, &s);
}
