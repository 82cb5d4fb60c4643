#include "dense.h"

#include "threads.h"

/* Columns per task: enough to keep a vector loop busy, few enough to share. */
#define COLUMN_BLOCK 256

void ei_dense(int rows, int k, int n, const float *x, const float *w, const float *bias,
              float *y)
{
    int blocks = (n + COLUMN_BLOCK - 1) / COLUMN_BLOCK, task;
    int tasks = rows * blocks;
#pragma omp parallel for num_threads(ei_get_num_threads()) schedule(static) \
    if ((long)rows * k * n > 262144)
    for (task = 0; task < tasks; task++) {
        int r = task / blocks, c0 = task % blocks * COLUMN_BLOCK, c, i;
        int width = n - c0 < COLUMN_BLOCK ? n - c0 : COLUMN_BLOCK;
        const float *xr = x + (long)r * k;
        float *yr = y + (long)r * n + c0;
        for (c = 0; c < width; c++)
            yr[c] = bias != 0 ? bias[c0 + c] : 0.0f;
        /* y += x[i] * w[i, :]: a multiply-add along contiguous columns, which
         * vectorises without reordering any sum */
        for (i = 0; i < k; i++) {
            const float xi = xr[i];
            const float *wi = w + (long)i * n + c0;
            for (c = 0; c < width; c++)
                yr[c] += xi * wi[c];
        }
    }
}
