"""Pure-numpy twins of every C kernel, with the same signatures: the oracle in
tests and the baseline in benchmarks. Written to be read, not to be fast."""
from .conv2d import conv2d
from .filter2d import filter2d
from .preprocess import preprocess

__all__ = ["conv2d", "filter2d", "preprocess"]
