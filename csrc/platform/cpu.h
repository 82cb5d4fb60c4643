/* Which vector unit the kernels use, decided once at run time. */
#ifndef EDGEINFER_CPU_H
#define EDGEINFER_CPU_H

/* Compilers that can build functions for a wider x86 unit than the rest of
 * the file (__attribute__((target))) without global -m flags. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define EI_HAVE_X86_TARGETS 1
#else
#define EI_HAVE_X86_TARGETS 0
#endif

typedef enum {
    EI_SIMD_PORTABLE = 0, /* plain C, always built */
    EI_SIMD_SSE2 = 1,     /* x86-64 baseline */
    EI_SIMD_AVX2 = 2,     /* AVX2 + FMA */
    EI_SIMD_AVX512 = 3,   /* AVX-512F */
    EI_SIMD_NEON = 4      /* ARM Advanced SIMD */
} ei_simd_level;

/* Best level this CPU and this build support. */
ei_simd_level ei_simd_detected(void);

/* Level the kernels use: the detected one, lowered by EDGEINFER_SIMD
 * (portable|sse2|avx2|avx512|neon) or by ei_simd_force. */
ei_simd_level ei_simd_active(void);

/* Force a level (for tests); a level the CPU lacks is refused with -1.
 * A negative level returns to the detected one. */
int ei_simd_force(int level);

const char *ei_simd_name(ei_simd_level level);

#endif
