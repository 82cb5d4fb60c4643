/* One vector unit's plane-filter rows (plane_filter_row.h), instantiated by
 * plane_filter.c with two lines per unit:
 *
 *     #define EI_PLANE_FILTER_ISA (unit, VEC, VECI, VL, attribute)
 *     #include "plane_filter_isa.h"
 *
 * The functions are named row_<unit>, row_body_<unit> and store_u8_<unit>;
 * the attribute (a target, or nothing) goes on each. An includer may also
 * define EI_STORE_BYTES and EI_VEC_NEON_INTRINSICS (see plane_filter_row.h).
 * Everything this header is given or defines is undefined at its end, so the
 * next unit starts clean. No include guard on purpose. */
#define EI_PF_ISA_UNIT_(u, v, vi, vl, attr) u
#define EI_PF_ISA_VEC_(u, v, vi, vl, attr) v
#define EI_PF_ISA_VECI_(u, v, vi, vl, attr) vi
#define EI_PF_ISA_VL_(u, v, vi, vl, attr) vl
#define EI_PF_ISA_ATTR_(u, v, vi, vl, attr) attr

/* the field picker is applied to the tuple once the tuple is expanded */
#define EI_PF_ISA_APPLY_(pick, tuple) pick tuple
#define EI_PF_ISA_FIELD(pick) EI_PF_ISA_APPLY_(pick, EI_PLANE_FILTER_ISA)
#define EI_PF_ISA_CAT__(a, b) a##b
#define EI_PF_ISA_CAT_(a, b) EI_PF_ISA_CAT__(a, b)
#define EI_PF_ISA_NAME(stem) EI_PF_ISA_CAT_(stem, EI_PF_ISA_FIELD(EI_PF_ISA_UNIT_))

#define VEC EI_PF_ISA_FIELD(EI_PF_ISA_VEC_)
#define VECI EI_PF_ISA_FIELD(EI_PF_ISA_VECI_)
#define VL EI_PF_ISA_FIELD(EI_PF_ISA_VL_)
#define ROW_ATTR EI_PF_ISA_FIELD(EI_PF_ISA_ATTR_)
#define ROW_FN EI_PF_ISA_NAME(row_)
#define STORE_U8_FN EI_PF_ISA_NAME(store_u8_)
#define ROW_BODY EI_PF_ISA_NAME(row_body_)

#include "plane_filter_row.h"

#undef VEC
#undef VECI
#undef VL
#undef ROW_ATTR
#undef ROW_FN
#undef STORE_U8_FN
#undef ROW_BODY
#undef EI_PF_ISA_UNIT_
#undef EI_PF_ISA_VEC_
#undef EI_PF_ISA_VECI_
#undef EI_PF_ISA_VL_
#undef EI_PF_ISA_ATTR_
#undef EI_PF_ISA_APPLY_
#undef EI_PF_ISA_FIELD
#undef EI_PF_ISA_CAT_
#undef EI_PF_ISA_CAT__
#undef EI_PF_ISA_NAME
#undef EI_STORE_BYTES
#undef EI_VEC_NEON_INTRINSICS
#undef EI_PLANE_FILTER_ISA
