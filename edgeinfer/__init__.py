"""edgeinfer: image and sensor classifiers on edge devices. This file only re-exports the public
API, each name on first use (`import edgeinfer` loads almost nothing); see ARCHITECTURE.md."""
import importlib
from .version import __version__

_SOURCES = {"model": ("load", "Model"), "run.postprocess": ("Prediction",),
            "kernels": ("preprocess", "conv2d", "filter2d"), "reference": ("",),  # "": itself
            "kernels.filter_kernels": ("FILTER_KERNELS",), "learn": ("Embedder", "personalize"),
            "kernels.frame_plan": ("IMAGENET_MEAN", "IMAGENET_STD"), "run.stream": ("stream",),
            "core.runtime": ("set_num_threads", "get_num_threads", "build_info")}
_MODULE_OF = {name or module: module for module, names in _SOURCES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'edgeinfer' has no attribute {name!r}")
    module = importlib.import_module(f".{_MODULE_OF[name]}", __name__)
    globals()[name] = value = module if name == _MODULE_OF[name] else getattr(module, name)
    return value


def __dir__():  # the public names before their first use, as a plain module lists them
    return sorted(set(globals()) | set(__all__))
