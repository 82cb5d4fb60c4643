/* One vector unit's GEMM kernels: the tiles (gemm_tiles.h) and the narrow
 * columns (gemm_narrow.h, or gemm_tail.h when A is packed), instantiated by gemm.c with two lines per unit:
 *
 *     #define EI_GEMM_ISA (prefix, VEC, VECI, VL, MR, NRV_MAX, attribute)
 *     #include "gemm_isa.h"
 *
 * The functions are named prefix_1 .. prefix_<NRV_MAX>, prefix_indirect_<n>,
 * prefix_packed_a_<n>, prefix_narrow and prefix_tail; the attribute (a target, or nothing) goes on each. An
 * includer may also define EI_VEC_NEON_INTRINSICS (see vec_ops.h). Everything
 * this header is given or defines is undefined at its end, so the next unit
 * starts clean. No include guard on purpose. */
#define EI_GEMM_ISA_PREFIX_(p, v, vi, vl, mr, nrv, attr) p
#define EI_GEMM_ISA_VEC_(p, v, vi, vl, mr, nrv, attr) v
#define EI_GEMM_ISA_VECI_(p, v, vi, vl, mr, nrv, attr) vi
#define EI_GEMM_ISA_VL_(p, v, vi, vl, mr, nrv, attr) vl
#define EI_GEMM_ISA_MR_(p, v, vi, vl, mr, nrv, attr) mr
#define EI_GEMM_ISA_NRV_MAX_(p, v, vi, vl, mr, nrv, attr) nrv
#define EI_GEMM_ISA_ATTR_(p, v, vi, vl, mr, nrv, attr) attr

/* the field picker is applied to the tuple once the tuple is expanded */
#define EI_GEMM_ISA_APPLY_(pick, tuple) pick tuple
#define EI_GEMM_ISA_FIELD(pick) EI_GEMM_ISA_APPLY_(pick, EI_GEMM_ISA)

#define TILE_PREFIX EI_GEMM_ISA_FIELD(EI_GEMM_ISA_PREFIX_)
#define VEC EI_GEMM_ISA_FIELD(EI_GEMM_ISA_VEC_)
#define VECI EI_GEMM_ISA_FIELD(EI_GEMM_ISA_VECI_)
#define VL EI_GEMM_ISA_FIELD(EI_GEMM_ISA_VL_)
#define MR EI_GEMM_ISA_FIELD(EI_GEMM_ISA_MR_)
#define NRV_MAX EI_GEMM_ISA_FIELD(EI_GEMM_ISA_NRV_MAX_)
#define TILE_ATTR EI_GEMM_ISA_FIELD(EI_GEMM_ISA_ATTR_)

#include "gemm_tiles.h"
#define NARROW_FN EI_CAT(TILE_PREFIX, _narrow)
#include "gemm_narrow.h"
#define TAIL_FN EI_CAT(TILE_PREFIX, _tail)
#include "gemm_tail.h"

#undef TAIL_FN
#undef NARROW_FN
#undef TILE_PREFIX
#undef VEC
#undef VECI
#undef VL
#undef MR
#undef NRV_MAX
#undef TILE_ATTR
#undef EI_GEMM_ISA_APPLY_
#undef EI_GEMM_ISA_FIELD
#undef EI_GEMM_ISA_PREFIX_
#undef EI_GEMM_ISA_VEC_
#undef EI_GEMM_ISA_VECI_
#undef EI_GEMM_ISA_VL_
#undef EI_GEMM_ISA_MR_
#undef EI_GEMM_ISA_NRV_MAX_
#undef EI_GEMM_ISA_ATTR_
#undef EI_VEC_NEON_INTRINSICS
#undef EI_GEMM_ISA
