"""What a backend says about each graph input and output."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple        # ints for fixed axes, None for free ones
    dtype: object       # numpy dtype, or None for types the runtime cannot feed
