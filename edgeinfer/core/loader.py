"""Loads the compiled core, or says how to build it."""
import os

# OpenMP waits passively unless the user chose otherwise (read once, as the core loads it):
# libgomp's default spin after each parallel step takes a core (docs/native.md, "Threads").
# Taken back once the core is loaded, so the user's subprocesses do not inherit it.
_WAIT_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")
_set_here = not any(name in os.environ for name in _WAIT_SETTINGS)
if _set_here:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
try:
    import edgeinfer._core as _core  # the extension setup.py builds; imported here only
except ImportError as error:  # pragma: no cover - only on a broken install
    raise ImportError(
        "edgeinfer's compiled core (edgeinfer._core) is missing or does not load "
        f"({error}). Build it from the source tree with `pip install -e .` or `make build` "
        "(needs a C compiler and Cython), or install a wheel for this platform."
    ) from error
finally:
    if _set_here:
        os.environ.pop("OMP_WAIT_POLICY", None)

core = _core
