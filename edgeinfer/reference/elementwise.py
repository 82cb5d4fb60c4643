"""Numpy twin of edgeinfer.kernels.elementwise."""
import numpy as np

UFUNCS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
          "max": np.maximum, "min": np.minimum}


def binary(op, a, b, out=None):
    return UFUNCS[op](np.asarray(a, np.float32), np.asarray(b, np.float32), out=out)
