/* A hint to bring the cache line at base + bytes in ahead of its use. The
 * address is formed as an integer: a hint past the end of an array (the next
 * block's data, or nothing) forms no out-of-bounds pointer, and prefetches
 * never fault. Compilers without the builtin get no hint. */
#ifndef EDGEINFER_PREFETCH_H
#define EDGEINFER_PREFETCH_H

#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define EI_PREFETCH(base, bytes)                                                          \
    __builtin_prefetch((const void *)((uintptr_t)(base) + (uintptr_t)(bytes)), 0, 3)
#else
#define EI_PREFETCH(base, bytes) ((void)(base), (void)(bytes))
#endif

#endif
