/* One vector unit's max of runs and every-second-float copy (pool.c),
 * instantiated per unit with
 *
 *     #define POOL_UNIT avx2                                  (the names' suffix)
 *     #define POOL_ATTR __attribute__((target("avx2")))       (or nothing)
 *     #define POOL_WIDTHS(STEP) STEP(ei_f32x8, ei_i32x8, 8) STEP(ei_f32x4, ei_i32x4, 4)
 *     #include "pool_max_runs.h"
 *
 * which defines max_runs_<unit>(runs, count, n, out): out[i] = the largest of
 * runs[0][i] .. runs[count - 1][i] for i < n, a NaN in any run winning, as in
 * the ONNX reference; max_rows_<unit> and evens_rows_<unit>, the same over
 * rows of a block (below). POOL_WIDTHS lists the vector widths,
 * widest first (none: plain C only); the first that fits the run does it
 * all, its last vector overlapping the one before (each output depends only
 * on its own column, so a column computed twice gets the same value); a run
 * shorter than every vector is plain C. out must not overlap the input. What the includer defined is undefined at the end. No
 * include guard on purpose. */
#define MAX_RUNS_CAT__(a, b) a##b
#define MAX_RUNS_CAT_(a, b) MAX_RUNS_CAT__(a, b)

/* acc = the largest of the runs' vectors at column at: take v where it is
 * larger or NaN (a NaN already in acc stays, as no v compares above it) */
#define MAX_RUNS_AT(VEC, VECI, at, acc)                                                        \
    do {                                                                                       \
        int r_;                                                                                \
        acc = *(const VEC *)(runs[0] + (at));                                                  \
        for (r_ = 1; r_ < count; r_++) {                                                       \
            const VEC v_ = *(const VEC *)(runs[r_] + (at));                                    \
            const VECI take_ = (VECI)(v_ > acc) | (VECI)(v_ != v_);                            \
            acc = (VEC)((take_ & (VECI)v_) | (~take_ & (VECI)acc));                            \
        }                                                                                      \
    } while (0)

#define MAX_RUNS_VECTORS(VEC, VECI, VL)                                                        \
    if (n - i >= (VL)) {                                                                       \
        VEC acc_;                                                                              \
        for (; i + (VL) <= n; i += (VL)) {                                                     \
            MAX_RUNS_AT(VEC, VECI, i, acc_);                                                   \
            *(VEC *)(out + i) = acc_;                                                          \
        }                                                                                      \
        if (i < n) {                                                                           \
            MAX_RUNS_AT(VEC, VECI, n - (VL), acc_);                                            \
            *(VEC *)(out + n - (VL)) = acc_;                                                   \
            i = n;                                                                             \
        }                                                                                      \
    }

POOL_ATTR static void MAX_RUNS_CAT_(max_runs_, POOL_UNIT)(const float *const *runs, int count,
                                                          int n, float *restrict out)
{
    int i = 0, r;
    POOL_WIDTHS(MAX_RUNS_VECTORS)
    if (i < n) {
        /* run by run: the columns are independent, the loop may vectorise */
        const int start = i;
        for (i = start; i < n; i++)
            out[i] = runs[0][i];
        for (r = 1; r < count; r++) {
            const float *restrict run = runs[r];
            for (i = start; i < n; i++)
                out[i] = max_or_nan(out[i], run[i]);
        }
    }
}

/* lanes 0, 2, 4 ... of the pair (a, b) */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define EVENS_OF(VECI, a, b, lanes) __builtin_shufflevector(a, b, lanes)
#else
#define EVENS_OF(VECI, a, b, lanes) __builtin_shuffle(a, b, (VECI){lanes})
#endif
#define EVEN_LANES_4 0, 2, 4, 6
#define EVEN_LANES_8 0, 2, 4, 6, 8, 10, 12, 14
#define EVEN_LANES_16 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30

/* Rows of the two passes without a call per row: out row r (out_step apart)
 * = the largest of `count` input rows starting at src + r * row_step, tap_step
 * apart, columns [0, n); and out row r = every second float of src row r.
 * The row loop is inside each vector step, so the short rows of a small map
 * (one vector each) follow one another without a call between them. */
#define MAX_ROWS_VECTORS(VEC, VECI, VL)                                                        \
    if (n >= (VL)) {                                                                           \
        for (r = 0; r < rows; r++) {                                                           \
            const float *base = src + r * row_step;                                            \
            float *to = out + r * out_step;                                                    \
            for (i = 0; i + (VL) <= n; i += (VL)) {                                            \
                VEC acc_ = *(const VEC *)(base + i);                                           \
                for (t = 1; t < count; t++) {                                                  \
                    const VEC v_ = *(const VEC *)(base + t * tap_step + i);                    \
                    const VECI take_ = (VECI)(v_ > acc_) | (VECI)(v_ != v_);                   \
                    acc_ = (VEC)((take_ & (VECI)v_) | (~take_ & (VECI)acc_));                  \
                }                                                                              \
                *(VEC *)(to + i) = acc_;                                                       \
            }                                                                                  \
            if (i < n) {                                                                       \
                VEC acc_ = *(const VEC *)(base + n - (VL));                                    \
                for (t = 1; t < count; t++) {                                                  \
                    const VEC v_ = *(const VEC *)(base + t * tap_step + n - (VL));             \
                    const VECI take_ = (VECI)(v_ > acc_) | (VECI)(v_ != v_);                   \
                    acc_ = (VEC)((take_ & (VECI)v_) | (~take_ & (VECI)acc_));                  \
                }                                                                              \
                *(VEC *)(to + n - (VL)) = acc_;                                                \
            }                                                                                  \
        }                                                                                      \
        return;                                                                                \
    }

POOL_ATTR static void MAX_RUNS_CAT_(max_rows_, POOL_UNIT)(const float *src, ptrdiff_t row_step,
                                                          ptrdiff_t tap_step, int count,
                                                          int rows, int n, float *out,
                                                          ptrdiff_t out_step)
{
    int r, t, i;
    POOL_WIDTHS(MAX_ROWS_VECTORS)
    for (r = 0; r < rows; r++) {
        const float *base = src + r * row_step;
        float *to = out + r * out_step;
        for (i = 0; i < n; i++)
            to[i] = base[i];
        for (t = 1; t < count; t++)
            for (i = 0; i < n; i++)
                to[i] = max_or_nan(to[i], base[t * tap_step + i]);
    }
    (void)i;
}

#define EVENS_ROWS_VECTORS(VEC, VECI, VL)                                                      \
    if (n >= (VL)) {                                                                           \
        for (r = 0; r < rows; r++) {                                                           \
            const float *restrict from = src + r * src_step;                                   \
            float *restrict to = out + r * out_step;                                           \
            for (i = 0; i + (VL) <= n; i += (VL)) {                                            \
                const VEC a_ = *(const VEC *)(from + 2 * i);                                   \
                const VEC b_ = *(const VEC *)(from + 2 * i + (VL));                            \
                *(VEC *)(to + i) = EVENS_OF(VECI, a_, b_, EVEN_LANES_##VL);                    \
            }                                                                                  \
            if (i < n) {                                                                       \
                const VEC a_ = *(const VEC *)(from + 2 * (n - (VL)));                          \
                const VEC b_ = *(const VEC *)(from + 2 * (n - (VL)) + (VL));                   \
                *(VEC *)(to + n - (VL)) = EVENS_OF(VECI, a_, b_, EVEN_LANES_##VL);             \
            }                                                                                  \
        }                                                                                      \
        return;                                                                                \
    }

POOL_ATTR static void MAX_RUNS_CAT_(evens_rows_, POOL_UNIT)(const float *src, ptrdiff_t src_step,
                                                            int rows, int n, float *out,
                                                            ptrdiff_t out_step)
{
    int r, i;
    POOL_WIDTHS(EVENS_ROWS_VECTORS)
    for (r = 0; r < rows; r++)
        for (i = 0; i < n; i++)
            out[r * out_step + i] = src[r * src_step + 2 * i];
    (void)i;
}

#undef EVENS_OF
#undef EVEN_LANES_4
#undef EVEN_LANES_8
#undef EVEN_LANES_16
#undef MAX_ROWS_VECTORS
#undef EVENS_ROWS_VECTORS
#undef MAX_RUNS_AT
#undef MAX_RUNS_VECTORS
#undef MAX_RUNS_CAT_
#undef MAX_RUNS_CAT__
#undef POOL_UNIT
#undef POOL_ATTR
#undef POOL_WIDTHS
