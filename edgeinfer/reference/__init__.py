"""Pure-numpy twins of every C kernel, with the same signatures: the oracle in
tests and the baseline in benchmarks. Written to be read, not to be fast."""
from .activation import activation, softmax
from .dense import dense
from .elementwise import binary
from .pool import avg_pool2d, global_avg_pool, max_pool2d
from .preprocess import preprocess

__all__ = ["activation", "avg_pool2d", "binary", "dense", "global_avg_pool", "max_pool2d", "preprocess",
           "softmax"]
