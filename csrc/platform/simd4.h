/* Four-float vectors over SSE2 (the x86-64 baseline), NEON, or plain C, so a
 * kernel is written once and runs vectorised wherever it is built. */
#ifndef EDGEINFER_SIMD4_H
#define EDGEINFER_SIMD4_H

#include <stdint.h>
#include <string.h>

#if defined(EI_NO_SIMD)
/* plain C below, forced: how the portable path is built and tested on any machine */
#elif defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define EI_SIMD4_SSE2 1
typedef __m128 v4;
static inline v4 v4_load(const float *p) { return _mm_loadu_ps(p); }
static inline void v4_store(float *p, v4 a) { _mm_storeu_ps(p, a); }
static inline v4 v4_set1(float a) { return _mm_set1_ps(a); }
static inline v4 v4_add(v4 a, v4 b) { return _mm_add_ps(a, b); }
static inline v4 v4_mul(v4 a, v4 b) { return _mm_mul_ps(a, b); }
/* four bytes at p as four floats */
static inline v4 v4_from_u8(const uint8_t *p)
{
    int32_t word;
    __m128i zero = _mm_setzero_si128(), v;
    memcpy(&word, p, 4);
    v = _mm_cvtsi32_si128(word);
    v = _mm_unpacklo_epi16(_mm_unpacklo_epi8(v, zero), zero);
    return _mm_cvtepi32_ps(v);
}
/* rows a, b, c, d become columns */
#define V4_TRANSPOSE(a, b, c, d) _MM_TRANSPOSE4_PS(a, b, c, d)

#elif defined(__ARM_NEON)
#include <arm_neon.h>
#define EI_SIMD4_NEON 1
typedef float32x4_t v4;
static inline v4 v4_load(const float *p) { return vld1q_f32(p); }
static inline void v4_store(float *p, v4 a) { vst1q_f32(p, a); }
static inline v4 v4_set1(float a) { return vdupq_n_f32(a); }
static inline v4 v4_add(v4 a, v4 b) { return vaddq_f32(a, b); }
static inline v4 v4_mul(v4 a, v4 b) { return vmulq_f32(a, b); }
static inline v4 v4_from_u8(const uint8_t *p)
{
    uint32_t word;
    uint8x8_t bytes;
    memcpy(&word, p, 4);
    bytes = vreinterpret_u8_u32(vdup_n_u32(word));
    return vcvtq_f32_u32(vmovl_u16(vget_low_u16(vmovl_u8(bytes))));
}
#define V4_TRANSPOSE(a, b, c, d)                                                        \
    do {                                                                                \
        float32x4x2_t ab_ = vtrnq_f32(a, b), cd_ = vtrnq_f32(c, d);                     \
        a = vcombine_f32(vget_low_f32(ab_.val[0]), vget_low_f32(cd_.val[0]));           \
        b = vcombine_f32(vget_low_f32(ab_.val[1]), vget_low_f32(cd_.val[1]));           \
        c = vcombine_f32(vget_high_f32(ab_.val[0]), vget_high_f32(cd_.val[0]));         \
        d = vcombine_f32(vget_high_f32(ab_.val[1]), vget_high_f32(cd_.val[1]));         \
    } while (0)

#endif

#if !defined(EI_SIMD4_SSE2) && !defined(EI_SIMD4_NEON)
#define EI_SIMD4_PORTABLE 1
typedef struct { float f[4]; } v4;
static inline v4 v4_load(const float *p) { v4 r; memcpy(r.f, p, sizeof r.f); return r; }
static inline void v4_store(float *p, v4 a) { memcpy(p, a.f, sizeof a.f); }
static inline v4 v4_set1(float a) { v4 r = {{a, a, a, a}}; return r; }
static inline v4 v4_add(v4 a, v4 b)
{
    int i;
    for (i = 0; i < 4; i++)
        a.f[i] += b.f[i];
    return a;
}
static inline v4 v4_mul(v4 a, v4 b)
{
    int i;
    for (i = 0; i < 4; i++)
        a.f[i] *= b.f[i];
    return a;
}
static inline v4 v4_from_u8(const uint8_t *p)
{
    v4 r = {{p[0], p[1], p[2], p[3]}};
    return r;
}
#define V4_TRANSPOSE(a, b, c, d)                                                        \
    do {                                                                                \
        float m_[4][4];                                                                 \
        int i_;                                                                         \
        v4_store(m_[0], a); v4_store(m_[1], b); v4_store(m_[2], c); v4_store(m_[3], d); \
        for (i_ = 0; i_ < 4; i_++) {                                                    \
            a.f[i_] = m_[i_][0]; b.f[i_] = m_[i_][1];                                   \
            c.f[i_] = m_[i_][2]; d.f[i_] = m_[i_][3];                                   \
        }                                                                               \
    } while (0)
#endif

/* a * b + c (fused where the unit has FMA and the compiler contracts) */
static inline v4 v4_madd(v4 a, v4 b, v4 c) { return v4_add(v4_mul(a, b), c); }

#endif
