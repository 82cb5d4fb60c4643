"""The public kernel API: argument checking in Python, the work in C."""
from .preprocess import preprocess

__all__ = ["preprocess"]
