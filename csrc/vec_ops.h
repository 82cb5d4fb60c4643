/* Operations on VEC for a kernel template, decided by the VL its includer
 * defined (VL 1: VEC is float, plain C). No include guard on purpose: each
 * instantiation re-evaluates it. Macros, not functions: see vec.h. */
#undef EI_VLOAD
#undef EI_VSTORE
#undef EI_VSET1
#undef EI_VSELECT
#undef EI_VMAX
#undef EI_VMIN

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
