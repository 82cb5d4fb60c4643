"""What every harness in tests/fuzz shares.

A harness module defines one_input(data: bytes), which may raise only the
documented clean errors listed in its CLEAN_ERRORS; anything else — another
exception type, or a sanitizer report or signal from the C core — is a
finding. Run as a script it fuzzes under atheris (libFuzzer arguments pass
through); imported (tests/test_fuzz_corpus.py) it replays its seed corpus
without atheris."""
import contextlib
import inspect
import os
import sys

import numpy as np

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
SIMD_LEVELS = ("portable", "sse2", "avx2", "avx512", "neon")


def instrumented(module_name):
    """Coverage feedback for edgeinfer's Python code when the harness runs as
    a script under atheris; nothing when it is imported."""
    if module_name != "__main__":
        return contextlib.nullcontext()
    import atheris
    return atheris.instrument_imports(include=["edgeinfer"])


def fuzz(one_input, clean_errors):
    """Runs one_input under atheris with sys.argv as libFuzzer's arguments."""
    import atheris

    def test_one_input(data):
        try:
            one_input(data)
        except clean_errors:
            pass

    # the choices drawn from the input live here and in the harness script,
    # which are imported before instrument_imports could see them
    for module in (sys.modules["__main__"], sys.modules[__name__]):
        for function in _functions(module):
            atheris.instrument_func(function)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def _functions(module):
    for value in vars(module).values():
        if getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            yield value
        elif inspect.isclass(value):
            yield from (f for f in vars(value).values() if inspect.isfunction(f))


class Provider:
    """Draws choices from the input bytes (as atheris.FuzzedDataProvider
    does, in plain Python so a corpus file replays the same without atheris);
    past the end of the input every draw is the lowest choice."""

    def __init__(self, data):
        self.data, self.at = bytes(data), 0

    def _take(self, n):
        chunk = self.data[self.at:self.at + n]
        self.at += len(chunk)
        return int.from_bytes(chunk.ljust(n, b"\0"), "little")

    def int_in(self, lo, hi):
        return lo + self._take(2) % (hi - lo + 1)

    def pick(self, values):
        return values[self.int_in(0, len(values) - 1)]

    def float_in(self, lo, hi):
        return lo + (hi - lo) * self._take(2) / 0xFFFF

    def rest(self):
        chunk = self.data[self.at:]
        self.at = len(self.data)
        return chunk


@contextlib.contextmanager
def forced_simd(core, level):
    """Runs the kernels on one vector unit (the portable path when the CPU
    lacks it), then returns to the automatic choice."""
    try:
        core.simd_force(level)
    except ValueError:
        core.simd_force("portable")
    try:
        yield
    finally:
        core.simd_force(None)


def strided_view(p, shape, dtype, rng):
    """An array of `shape` read through one of the views numpy can make —
    contiguous, flipped, stepped, transposed, broadcast — over a buffer of its
    own whose last byte the view reaches wherever it can, so one byte read
    past the data is outside the allocation (and ASan says so)."""
    kind = p.pick(("contiguous", "flip-rows", "flip-cols", "flip-both", "step-rows",
                   "step-cols", "transposed", "broadcast-rows", "broadcast-cols",
                   "channels-reversed", "crop"))
    h, w = shape[:2]
    rest = tuple(shape[2:])

    def fresh(s):
        # numpy allocates exactly the bytes asked for: no slack to hide an overrun
        if np.dtype(dtype) == np.uint8:
            return rng.integers(0, 256, size=s, dtype=np.uint8)
        return (rng.standard_normal(s) * 50).astype(dtype)

    if kind == "flip-rows":
        return fresh(shape)[::-1]
    if kind == "flip-cols":
        return fresh(shape)[:, ::-1]
    if kind == "flip-both":
        return fresh(shape)[::-1, ::-1]
    if kind == "step-rows":
        return fresh((2 * h - 1, w) + rest)[::2]
    if kind == "step-cols":
        return fresh((h, 2 * w - 1) + rest)[:, ::2]
    if kind == "transposed":
        return fresh((w, h) + rest).swapaxes(0, 1)
    if kind == "broadcast-rows":
        return np.broadcast_to(fresh((1, w) + rest), shape)
    if kind == "broadcast-cols":
        return np.broadcast_to(fresh((h, 1) + rest), shape)
    if kind == "channels-reversed" and rest:
        return fresh(shape)[..., ::-1]
    if kind == "crop":
        # the bottom-right corner of a larger frame: rows and columns before it
        return fresh((h + 2, w + 3) + rest)[2:, 3:]
    return fresh(shape)
