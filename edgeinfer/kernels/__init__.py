"""The public kernel API: argument checking in Python, the work in C."""
from .conv2d import conv2d
from .filter2d import filter2d
from .preprocess import preprocess

__all__ = ["conv2d", "filter2d", "preprocess"]
