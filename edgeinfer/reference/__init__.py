"""Pure-numpy twins of every C kernel, with the same signatures: the oracle in
tests and the baseline in benchmarks. Written to be read, not to be fast."""
from .preprocess import preprocess

__all__ = ["preprocess"]
