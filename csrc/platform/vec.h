/* Vector types of every width the kernels are built for, as compiler vector
 * extensions (GCC, clang): one kernel source becomes SSE2, AVX2+FMA, AVX-512
 * or NEON code depending on the target of the function it is inlined into.
 * Their operations (vec_ops.h) are macros, not functions: a helper taking a
 * 32- or 64-byte vector would change the calling convention of a file built
 * without AVX. */
#ifndef EDGEINFER_VEC_H
#define EDGEINFER_VEC_H

#if (defined(__GNUC__) || defined(__clang__)) && !defined(EI_NO_SIMD)
#define EI_HAVE_VECTOR_EXTENSIONS 1
/* aligned(4): loads and stores of these types may be unaligned */
typedef float ei_f32x4 __attribute__((vector_size(16), aligned(4), may_alias));
typedef float ei_f32x8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef float ei_f32x16 __attribute__((vector_size(64), aligned(4), may_alias));
typedef int ei_i32x4 __attribute__((vector_size(16), aligned(4), may_alias));
typedef int ei_i32x8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef int ei_i32x16 __attribute__((vector_size(64), aligned(4), may_alias));
#else
#define EI_HAVE_VECTOR_EXTENSIONS 0
#endif

#endif
