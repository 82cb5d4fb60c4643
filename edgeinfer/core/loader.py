"""Loads the compiled core, or says how to build it."""
import os

# OpenMP waits passively unless the user chose otherwise (read once, as the core loads it):
# libgomp's default spin after each parallel step takes a core (docs/native.md, "Threads")
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
try:
    import edgeinfer._core as _core  # the extension setup.py builds; imported here only
except ImportError as error:  # pragma: no cover - only on a broken install
    raise ImportError(
        "edgeinfer's compiled core (edgeinfer._core) is missing or does not load "
        f"({error}). Build it from the source tree with `pip install -e .` or `make build` "
        "(needs a C compiler and Cython), or install a wheel for this platform."
    ) from error

core = _core
