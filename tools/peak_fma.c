/* Peak single-precision multiply-add rate of one core, for scale beside the
 * convolution benchmarks: 24 independent accumulator chains of the widest
 * vectors, no memory traffic.
 *
 *     gcc -O2 -o /tmp/peak_fma tools/peak_fma.c && /tmp/peak_fma
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdio.h>
#include <time.h>

#define CHAINS 24
#define STEPS 10000000L
#define RUNS 5

#define PEAK_LOOP(VEC, LANES)                                                             \
    do {                                                                                  \
        VEC acc[CHAINS], a = (VEC){0} + 1.0000001f, b = (VEC){0} + 0.9999999f;            \
        float sink = 0.0f;                                                                \
        struct timespec t0, t1;                                                           \
        long s;                                                                           \
        int c, l;                                                                         \
        for (c = 0; c < CHAINS; c++)                                                      \
            acc[c] = (VEC){0} + (float)c;                                                 \
        clock_gettime(CLOCK_MONOTONIC, &t0);                                              \
        for (s = 0; s < STEPS; s++) {                                                     \
            _Pragma("GCC unroll 24")                                                      \
            for (c = 0; c < CHAINS; c++)                                                  \
                acc[c] = acc[c] * a + b;                                                  \
            __asm__ volatile("" : "+v"(a));                                               \
        }                                                                                 \
        clock_gettime(CLOCK_MONOTONIC, &t1);                                              \
        for (c = 0; c < CHAINS; c++)                                                      \
            for (l = 0; l < LANES; l++)                                                   \
                sink += acc[c][l];                                                        \
        seconds = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);             \
        gflops = 2.0 * LANES * CHAINS * STEPS / seconds / 1e9;                            \
        if (sink == 12345.0f)                                                             \
            printf(" ");                                                                  \
    } while (0)

#if defined(__x86_64__)
typedef float f32x8 __attribute__((vector_size(32)));
typedef float f32x16 __attribute__((vector_size(64)));

__attribute__((target("avx2,fma"))) static double peak_avx2(void)
{
    double seconds, gflops;
    PEAK_LOOP(f32x8, 8);
    return gflops;
}

__attribute__((target("avx512f"))) static double peak_avx512(void)
{
    double seconds, gflops;
    PEAK_LOOP(f32x16, 16);
    return gflops;
}
#endif

int main(void)
{
#if defined(__x86_64__)
    double best;
    int run;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        for (best = 0.0, run = 0; run < RUNS; run++) {
            const double rate = peak_avx2();
            best = rate > best ? rate : best;
        }
        printf("avx2+fma  peak: %6.1f GFLOP/s per core\n", best);
    }
    if (__builtin_cpu_supports("avx512f")) {
        for (best = 0.0, run = 0; run < RUNS; run++) {
            const double rate = peak_avx512();
            best = rate > best ? rate : best;
        }
        printf("avx512f   peak: %6.1f GFLOP/s per core\n", best);
    }
#else
    printf("x86-64 only\n");
#endif
    return 0;
}
