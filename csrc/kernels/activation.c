#include "activation.h"

#include <limits.h>
#include <math.h>

#include "thread_pool.h"
#include "threads.h"

/* Chunks large enough that threads pay off, small enough to share the work. */
#define CHUNK 16384

static void relu(size_t n, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
}

static void clip(size_t n, const float *x, float *y, float lo, float hi)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float v = x[i];
        v = v < lo ? lo : v;
        y[i] = v > hi ? hi : v;
    }
}

static void leaky_relu(size_t n, const float *x, float *y, float alpha)
{
    size_t i;
    for (i = 0; i < n; i++)
        y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}

static void sigmoid(size_t n, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; i++) {
        /* exp of a negative number only: no overflow on either side */
        float v = x[i];
        if (v >= 0.0f) {
            y[i] = 1.0f / (1.0f + expf(-v));
        } else {
            float e = expf(v);
            y[i] = e / (1.0f + e);
        }
    }
}

static void hard_sigmoid(size_t n, const float *x, float *y, float alpha, float beta)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float v = alpha * x[i] + beta;
        v = v < 0.0f ? 0.0f : v;
        y[i] = v > 1.0f ? 1.0f : v;
    }
}

static void hard_swish(size_t n, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float v = x[i] * (1.0f / 6.0f) + 0.5f;
        v = v < 0.0f ? 0.0f : v;
        v = v > 1.0f ? 1.0f : v;
        y[i] = x[i] * v;
    }
}

/* x * sigmoid(x) (SiLU, "swish"): the Sigmoid-Mul pair YOLO-style detectors
 * write after each conv, in one pass and in place */
static void silu(size_t n, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float v = x[i];
        if (v >= 0.0f) {
            y[i] = v / (1.0f + expf(-v));
        } else {
            float e = expf(v);
            y[i] = v * e / (1.0f + e);
        }
    }
}

static void tanh_(size_t n, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; i++)
        y[i] = tanhf(x[i]);
}

static void apply(int kind, size_t n, const float *x, float *y, float alpha, float beta)
{
    switch (kind) {
    case EI_ACT_RELU: relu(n, x, y); break;
    case EI_ACT_CLIP: clip(n, x, y, alpha, beta); break;
    case EI_ACT_LEAKY_RELU: leaky_relu(n, x, y, alpha); break;
    case EI_ACT_SIGMOID: sigmoid(n, x, y); break;
    case EI_ACT_HARD_SIGMOID: hard_sigmoid(n, x, y, alpha, beta); break;
    case EI_ACT_HARD_SWISH: hard_swish(n, x, y); break;
    case EI_ACT_TANH: tanh_(n, x, y); break;
    case EI_ACT_SILU: silu(n, x, y); break;
    }
}

/* An activation step's arguments, as its tasks read them. */
typedef struct {
    int kind;
    size_t n, per_task;
    const float *x;
    float *y;
    float alpha, beta;
} activation_step;

static int activation_task(void *ctx, int task, int thread)
{
    const activation_step *s = (const activation_step *)ctx;
    const size_t start = (size_t)task * s->per_task;
    const size_t len = s->n - start < s->per_task ? s->n - start : s->per_task;
    (void)thread;
    apply(s->kind, len, s->x + start, s->y + start, s->alpha, s->beta);
    return 0;
}

int ei_activation(int kind, size_t n, const float *x, float *y, float alpha, float beta)
{
    const size_t chunks = (n + CHUNK - 1) / CHUNK;
    activation_step s;
    if (kind < EI_ACT_RELU || kind > EI_ACT_SILU)
        return -1;
    s.kind = kind;
    s.n = n;
    /* CHUNK floats a task, more if there are more chunks than a task count holds */
    s.per_task = chunks > INT_MAX ? (chunks / INT_MAX + 1) * CHUNK : CHUNK;
    s.x = x;
    s.y = y;
    s.alpha = alpha;
    s.beta = beta;
    return ei_parallel_for((int)((n + s.per_task - 1) / s.per_task),
                           ei_threads_for((double)chunks, EI_WORK_PER_STREAMED_FLOAT * CHUNK),
                           activation_task, &s);
}

void ei_softmax(size_t outer, size_t axis_len, size_t inner, const float *x, float *y)
{
    size_t o, i, k;
    for (o = 0; o < outer; o++) {
        const float *src = x + o * axis_len * inner;
        float *dst = y + o * axis_len * inner;
        for (i = 0; i < inner; i++) {
            float top = -INFINITY, sum = 0.0f;
            for (k = 0; k < axis_len; k++)
                top = src[k * inner + i] > top ? src[k * inner + i] : top;
            for (k = 0; k < axis_len; k++) {
                float e = expf(src[k * inner + i] - top);
                dst[k * inner + i] = e;
                sum += e;
            }
            for (k = 0; k < axis_len; k++)
                dst[k * inner + i] /= sum;
        }
    }
}
