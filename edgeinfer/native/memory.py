"""Static memory plan: every intermediate tensor gets a fixed place in one
arena, and tensors whose lifetimes do not overlap share bytes. Greedy by
size, as in TFLite's arena planner: place the largest tensors first, each at
the lowest offset that no overlapping-lifetime tensor already holds."""
from __future__ import annotations

from dataclasses import dataclass

ALIGN = 64  # a cache line: every buffer starts on one, as SIMD loads like


@dataclass
class Lifetime:
    name: str
    nbytes: int
    first: int      # step that writes it
    last: int       # last step that reads it (or the end, for graph outputs)


def _aligned(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def place(lifetimes):
    """{name: offset} and the arena size in bytes."""
    placed = []   # (offset, size, first, last)
    offsets = {}
    for item in sorted(lifetimes, key=lambda t: (-t.nbytes, t.first)):
        size = _aligned(max(item.nbytes, 1))
        busy = sorted((o, s) for o, s, f, l in placed if f <= item.last and item.first <= l)
        offset = 0
        for start, length in busy:
            if offset + size <= start:
                break
            offset = max(offset, start + length)
        placed.append((offset, size, item.first, item.last))
        offsets[item.name] = offset
    total = max((o + s for o, s, _, _ in placed), default=0)
    return offsets, total
