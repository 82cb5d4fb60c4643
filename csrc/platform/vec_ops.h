/* Operations on VEC for a kernel template, decided by the VL its includer
 * defined (VL 1: VEC is float, plain C) and by EI_VEC_NEON_INTRINSICS (VEC
 * is float32x4_t, for 32-bit ARM, where compilers keep vector-extension
 * float arithmetic off NEON because NEON there flushes denormals). No
 * include guard on purpose: each instantiation re-evaluates it. */
#undef EI_VLOAD
#undef EI_VSTORE
#undef EI_VSET1
#undef EI_VSELECT
#undef EI_VMAX
#undef EI_VMIN
#undef EI_VFMA
#undef EI_VADD
#undef EI_VSUB

#if defined(EI_VEC_NEON_INTRINSICS)
#define EI_VLOAD(p) vld1q_f32(p)
#define EI_VSTORE(p, v) vst1q_f32((p), (v))
#define EI_VSET1(s) vdupq_n_f32((float)(s))
#define EI_VMAX(a, b) vmaxq_f32((a), (b))
#define EI_VMIN(a, b) vminq_f32((a), (b))
#define EI_VADD(a, b) vaddq_f32((a), (b))
#define EI_VSUB(a, b) vsubq_f32((a), (b))
#if defined(__ARM_FEATURE_FMA)
#define EI_VFMA(acc, a, b) vfmaq_f32((acc), (a), (b))
#else
#define EI_VFMA(acc, a, b) vmlaq_f32((acc), (a), (b))
#endif
#else
/* acc + a * b, contracted to one fused multiply-add (-ffp-contract=fast) */
#define EI_VFMA(acc, a, b) ((acc) + (a) * (b))
#define EI_VADD(a, b) ((a) + (b))
#define EI_VSUB(a, b) ((a) - (b))
#define EI_VLOAD(p) (*(const VEC *)(p))
#define EI_VSTORE(p, v) (*(VEC *)(p) = (v))
#if VL == 1
#define EI_VSET1(s) ((VEC)(s))
#define EI_VMAX(a, b) ((a) < (b) ? (b) : (a))
#define EI_VMIN(a, b) ((a) > (b) ? (b) : (a))
#else
/* s - 0 folds to a plain broadcast (s + 0 would not: -0 + 0 is +0), which
 * the compiler can take straight from memory, off the shuffle port */
#define EI_VSET1(s) ((float)(s) - (VEC){0})
/* keeps a where the comparison is false, so NaN passes through as in ONNX */
#define EI_VSELECT(mask, b, a) ((VEC)(((mask) & (VECI)(b)) | (~(mask) & (VECI)(a))))
#define EI_VMAX(a, b) EI_VSELECT((VECI)((a) < (b)), b, a)
#define EI_VMIN(a, b) EI_VSELECT((VECI)((a) > (b)), b, a)
#endif
#endif
