/* One vector unit's max of runs (pool.c), instantiated per unit with
 *
 *     #define POOL_UNIT avx2                                  (the name's suffix)
 *     #define POOL_ATTR __attribute__((target("avx2")))       (or nothing)
 *     #define POOL_WIDTHS MAX_RUNS_VECTORS(ei_f32x8, ei_i32x8, 8) ...
 *     #include "pool_max_runs.h"
 *
 * which defines max_runs_<unit>(runs, count, n, out): out[i] = the largest of
 * runs[0][i] .. runs[count - 1][i] for i < n, a NaN in any run winning, as in
 * the ONNX reference. POOL_WIDTHS lists vector steps, widest first (none:
 * plain C only); the first that fits the run does it all, its last vector
 * overlapping the one before (each output depends only on its own column,
 * so a column computed twice gets the same value); a run shorter than every
 * vector is plain C. out must not overlap a run. What the includer defined is undefined at the end. No
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
    POOL_WIDTHS
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

#undef MAX_RUNS_AT
#undef MAX_RUNS_VECTORS
#undef MAX_RUNS_CAT_
#undef MAX_RUNS_CAT__
#undef POOL_UNIT
#undef POOL_ATTR
#undef POOL_WIDTHS
