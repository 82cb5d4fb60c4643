#include "dense.h"

#include "cpu.h"
#include "thread_pool.h"
#include "threads.h"

/* Columns per task: a whole row of the weights, so that they stream through
 * once in order (a 1280 -> 1000 classifier took 0.78-0.82x the time of
 * 256-column blocks, each of which read a fourth of every 4 KB row), split
 * only to give each thread a share and to keep a block's outputs within
 * 16 KB of L1. */
#define COLUMN_BLOCK_MAX 4096

static int column_block(int rows, int n, int threads)
{
    int blocks = (n + COLUMN_BLOCK_MAX - 1) / COLUMN_BLOCK_MAX;
    int width;
    if (blocks * rows < threads)
        blocks = (threads + rows - 1) / rows;
    width = (n + blocks - 1) / blocks;
    return (width + 15) / 16 * 16; /* whole vectors but in the last block */
}

/* y[0:width] = bias + x . w for one row and one block of columns. Four weight
 * rows per pass, so each output is loaded and stored a quarter as often; the
 * column loop is a multiply-add over contiguous floats, which vectorises
 * without reordering any sum. Written as a macro so that each vector unit
 * gets its own compiled copy. */
#define DENSE_BLOCK(NAME, ATTRIBUTES)                                                       \
    ATTRIBUTES static void NAME(int k, int n, int width, const float *xr, const float *w,  \
                                const float *bias, float *yr)                              \
    {                                                                                       \
        int c, i = 0;                                                                       \
        for (c = 0; c < width; c++)                                                         \
            yr[c] = bias != 0 ? bias[c] : 0.0f;                                             \
        for (; i + 4 <= k; i += 4) {                                                        \
            const float x0 = xr[i], x1 = xr[i + 1], x2 = xr[i + 2], x3 = xr[i + 3];         \
            const float *w0 = w + (long)i * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;    \
            for (c = 0; c < width; c++)                                                     \
                yr[c] += x0 * w0[c] + x1 * w1[c] + x2 * w2[c] + x3 * w3[c];                 \
        }                                                                                   \
        for (; i < k; i++) {                                                                \
            const float xi = xr[i];                                                         \
            const float *wi = w + (long)i * n;                                              \
            for (c = 0; c < width; c++)                                                     \
                yr[c] += xi * wi[c];                                                        \
        }                                                                                   \
    }

DENSE_BLOCK(dense_block_portable, )
#if EI_HAVE_X86_TARGETS && !defined(EI_NO_SIMD)
DENSE_BLOCK(dense_block_avx2, __attribute__((target("avx2,fma"))))
#endif

/* A dense step's arguments, as its tasks read them. */
typedef struct {
    int k, n, block, blocks, wide;
    const float *x, *w, *bias;
    float *y;
} dense_step;

/* One row of x against one block of columns. */
static int dense_task(void *ctx, int task, int thread)
{
    const dense_step *s = (const dense_step *)ctx;
    const int k = s->k, n = s->n, block = s->block;
    int r = task / s->blocks, c0 = task % s->blocks * block;
    int width = n - c0 < block ? n - c0 : block;
    const float *b = s->bias != 0 ? s->bias + c0 : 0;
    float *yr = s->y + (long)r * n + c0;
    (void)thread;
#if EI_HAVE_X86_TARGETS && !defined(EI_NO_SIMD)
    if (s->wide) {
        dense_block_avx2(k, n, width, s->x + (long)r * k, s->w + c0, b, yr);
        return 0;
    }
#endif
    dense_block_portable(k, n, width, s->x + (long)r * k, s->w + c0, b, yr);
    return 0;
}

void ei_dense(int rows, int k, int n, const float *x, const float *w, const float *bias,
              float *y)
{
    dense_step s;
    int tasks;
    if (rows < 1 || n < 1) /* nothing to write; the block arithmetic would divide by 0 */
        return;
    s.k = k;
    s.n = n;
    s.block = column_block(rows, n, ei_get_num_threads());
    s.blocks = (n + s.block - 1) / s.block;
    s.wide = 0;
#if EI_HAVE_X86_TARGETS && !defined(EI_NO_SIMD)
    s.wide = ei_simd_active() == EI_SIMD_AVX2 || ei_simd_active() == EI_SIMD_AVX512;
#endif
    s.x = x;
    s.w = w;
    s.bias = bias;
    s.y = y;
    tasks = rows * s.blocks;
    /* a weight read for fewer rows than a streamed float's worth is a
     * stream from memory, not arithmetic: a classifier of one row (1280 ->
     * 1000, 1.3 M multiply-adds in 5 MB of weights) stayed on one thread
     * below the gate, while two cores read it 1.7x as fast */
    (void)ei_parallel_for(tasks,
                          ei_threads_for(tasks, (double)k * s.block *
                                                    (rows < EI_WORK_PER_STREAMED_FLOAT
                                                         ? EI_WORK_PER_STREAMED_FLOAT / rows
                                                         : 1.0)),
                          dense_task, &s);
}
