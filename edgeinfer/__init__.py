"""edgeinfer: image and sensor classifiers on edge devices.

This file only re-exports the public API; nothing inside the package imports
from it (see ARCHITECTURE.md)."""
from . import reference
from .core.runtime import build_info, get_num_threads, set_num_threads
from .kernels import conv2d, filter2d, preprocess
from .kernels.filter_kernels import FILTER_KERNELS
from .kernels.frame_plan import IMAGENET_MEAN, IMAGENET_STD
from .model import Model, load
from .learn import Embedder, personalize
from .run.postprocess import Prediction
from .run.stream import stream
from .version import __version__

__all__ = ["load", "stream", "Model", "Prediction", "preprocess", "conv2d", "filter2d", "FILTER_KERNELS",
           "reference", "set_num_threads", "get_num_threads", "build_info",
           "IMAGENET_MEAN", "IMAGENET_STD", "Embedder", "personalize"]
