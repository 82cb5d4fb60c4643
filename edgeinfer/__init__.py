"""edgeinfer: image and sensor classifiers on edge devices."""
from ._native import core as _core
from .frame_plan import IMAGENET_MEAN, IMAGENET_STD
from .filter_kernels import FILTER_KERNELS
from .kernels import conv2d, filter2d, preprocess
from . import reference
from .model import Model, load
from .learn import Embedder, personalize
from .postprocess import Prediction

__version__ = "0.1.0"


def set_num_threads(n):
    """Threads the C kernels may use; n <= 0 restores the default
    (EDGEINFER_NUM_THREADS, else OMP_NUM_THREADS, else all cores)."""
    _core.set_num_threads(int(n))


def get_num_threads():
    return _core.get_num_threads()


def build_info():
    """What the compiled core was built with and what it runs on this CPU."""
    return {
        "openmp": _core.openmp_enabled(),
        "threads": _core.get_num_threads(),
        "simd_detected": _core.simd_detected(),
        "simd_active": _core.simd_active(),
    }


__all__ = ["load", "Model", "Prediction", "preprocess", "conv2d", "filter2d", "FILTER_KERNELS",
           "reference", "set_num_threads", "get_num_threads", "build_info",
           "IMAGENET_MEAN", "IMAGENET_STD", "Embedder", "personalize"]
