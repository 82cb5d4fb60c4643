"""Loads the compiled core, or says how to build it."""
try:
    import edgeinfer._core as _core  # the extension setup.py builds; imported here only
except ImportError as error:  # pragma: no cover - only on a broken install
    raise ImportError(
        "edgeinfer's compiled core (edgeinfer._core) is missing or does not load "
        f"({error}). Build it from the source tree with `pip install -e .` or `make build` "
        "(needs a C compiler and Cython), or install a wheel for this platform."
    ) from error

core = _core
