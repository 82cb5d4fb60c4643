#include "cpu.h"

#include <stdlib.h>
#include <string.h>

static int active_level = -1; /* -1: not decided yet */

ei_simd_level ei_simd_detected(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return EI_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return EI_SIMD_AVX2;
    if (__builtin_cpu_supports("sse2"))
        return EI_SIMD_SSE2;
    return EI_SIMD_PORTABLE;
#elif defined(__ARM_NEON) || defined(__aarch64__)
    return EI_SIMD_NEON;
#else
    return EI_SIMD_PORTABLE;
#endif
}

const char *ei_simd_name(ei_simd_level level)
{
    switch (level) {
    case EI_SIMD_SSE2: return "sse2";
    case EI_SIMD_AVX2: return "avx2";
    case EI_SIMD_AVX512: return "avx512";
    case EI_SIMD_NEON: return "neon";
    default: return "portable";
    }
}

static int supported(int level)
{
    int best = (int)ei_simd_detected();
    if (level == EI_SIMD_PORTABLE)
        return 1;
    if (best == EI_SIMD_NEON)
        return level == EI_SIMD_NEON;
    return level != EI_SIMD_NEON && level <= best;
}

static int level_from_env(void)
{
    const char *env = getenv("EDGEINFER_SIMD");
    int level;
    if (env == NULL || env[0] == '\0')
        return (int)ei_simd_detected();
    for (level = EI_SIMD_PORTABLE; level <= EI_SIMD_NEON; level++)
        if (strcmp(env, ei_simd_name((ei_simd_level)level)) == 0 && supported(level))
            return level;
    return (int)ei_simd_detected();
}

ei_simd_level ei_simd_active(void)
{
    if (active_level < 0)
        active_level = level_from_env();
    return (ei_simd_level)active_level;
}

int ei_simd_force(int level)
{
    if (level < 0) {
        active_level = level_from_env();
        return 0;
    }
    if (level > EI_SIMD_NEON || !supported(level))
        return -1;
    active_level = level;
    return 0;
}
