/* Instantiates gemm_tile.h for tiles 1 .. NRV_MAX vectors wide, named
 * TILE_PREFIX_1 .. TILE_PREFIX_4 (and TILE_PREFIX_indirect_1 .. _4, whose B
 * rows come from a table of pointers, and TILE_PREFIX_packed_a_1 .. _4, whose
 * A was packed by ei_gemm_pack_a): the full width for most panels, a narrower
 * one for the last panel of a row of output positions, so that a 7x7 map
 * (49 positions) does not cost two full 48-wide passes. The includer defines
 * VEC, VECI, VL, MR, NRV_MAX, TILE_PREFIX and TILE_ATTR. */
#define EI_CAT_(a, b) a##b
#define EI_CAT(a, b) EI_CAT_(a, b)

#define NRV 1
#define TILE_FN EI_CAT(TILE_PREFIX, _1)
#include "gemm_tile.h"
#undef TILE_FN
#define TILE_INDIRECT 1
#define TILE_FN EI_CAT(TILE_PREFIX, _indirect_1)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_INDIRECT
#define TILE_PACKED_A 1
#define TILE_FN EI_CAT(TILE_PREFIX, _packed_a_1)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_PACKED_A
#undef NRV

#if NRV_MAX >= 2
#define NRV 2
#define TILE_FN EI_CAT(TILE_PREFIX, _2)
#include "gemm_tile.h"
#undef TILE_FN
#define TILE_INDIRECT 1
#define TILE_FN EI_CAT(TILE_PREFIX, _indirect_2)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_INDIRECT
#define TILE_PACKED_A 1
#define TILE_FN EI_CAT(TILE_PREFIX, _packed_a_2)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_PACKED_A
#undef NRV
#endif

#if NRV_MAX >= 3
#define NRV 3
#define TILE_FN EI_CAT(TILE_PREFIX, _3)
#include "gemm_tile.h"
#undef TILE_FN
#define TILE_INDIRECT 1
#define TILE_FN EI_CAT(TILE_PREFIX, _indirect_3)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_INDIRECT
#define TILE_PACKED_A 1
#define TILE_FN EI_CAT(TILE_PREFIX, _packed_a_3)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_PACKED_A
#undef NRV
#endif

#if NRV_MAX >= 4
#define NRV 4
#define TILE_FN EI_CAT(TILE_PREFIX, _4)
#include "gemm_tile.h"
#undef TILE_FN
#define TILE_INDIRECT 1
#define TILE_FN EI_CAT(TILE_PREFIX, _indirect_4)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_INDIRECT
#define TILE_PACKED_A 1
#define TILE_FN EI_CAT(TILE_PREFIX, _packed_a_4)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_PACKED_A
#undef NRV
#endif

/* The widest tile with 1 to 4 columns of the tail fused in
 * (TILE_PREFIX_packed_a_tail_1 .. _4): the last tile before the tail is the
 * widest on every map of a real model (7x7, 14x14); a narrower one leaves
 * the tail to gemm_tail.h. With one-float vectors no column is left. */
#if VL > 1
#define NRV NRV_MAX
#define TILE_PACKED_A 1
#define TILE_TAIL 1
#define TILE_FN EI_CAT(TILE_PREFIX, _packed_a_tail_1)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_TAIL
#define TILE_TAIL 2
#define TILE_FN EI_CAT(TILE_PREFIX, _packed_a_tail_2)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_TAIL
#define TILE_TAIL 3
#define TILE_FN EI_CAT(TILE_PREFIX, _packed_a_tail_3)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_TAIL
#define TILE_TAIL 4
#define TILE_FN EI_CAT(TILE_PREFIX, _packed_a_tail_4)
#include "gemm_tile.h"
#undef TILE_FN
#undef TILE_TAIL
#undef TILE_PACKED_A
#undef NRV
#endif
