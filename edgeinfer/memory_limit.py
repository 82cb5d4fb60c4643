"""How much memory a model may ask for when it is loaded.

A 1 KB model file can ask for gigabytes (a ConstantOfShape of 20000x20000x4
floats); both backends add up what a model will hold before allocating any
of it and refuse, with one line naming the node, what does not fit. The limit
is a fraction of the machine's memory, or EDGEINFER_MAX_MEMORY."""
from __future__ import annotations

import os
import re

import numpy as np

from .errors import ModelError, UserError

ENVIRONMENT = "EDGEINFER_MAX_MEMORY"
MEMORY_FRACTION = 0.25  # of physical memory: the rest is the OS, the camera, the app and its frames
UNITS = {"": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text):
    """Bytes from "1048576", "512M", "2G", "1.5GiB" ...; ValueError otherwise."""
    match = SIZE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a size")
    return int(float(match.group(1)) * UNITS[match.group(2).upper()])


def physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):   # not a POSIX system: no limit we can know
        return None


def max_memory():
    """(bytes a model may hold, where that number comes from)."""
    given = os.environ.get(ENVIRONMENT)
    if given:
        try:
            return parse_size(given), f"{ENVIRONMENT}={given}"
        except ValueError:
            raise UserError(f"{ENVIRONMENT}={given!r} is not a size: give bytes, or a number "
                            "with K, M, G or T (for example 512M or 2G)") from None
    total = physical_memory()
    if total is None:
        return None, "no limit"
    return int(total * MEMORY_FRACTION), \
        f"{MEMORY_FRACTION:.0%} of this machine's {show_bytes(total)}"


def show_bytes(count):
    for unit in ("T", "G", "M", "K"):
        if count >= UNITS[unit]:
            return f"{count / UNITS[unit]:.1f} {unit}B"
    return f"{int(count)} bytes"


def check(nbytes, what, origin="the model"):
    """ModelError when `what` (e.g. "node 'big' (ConstantOfShape)") would need more
    than the limit; call it before allocating."""
    limit, source = max_memory()
    if limit is not None and nbytes > limit:
        raise ModelError(f"{origin}: {what} needs {show_bytes(nbytes)}, more than the "
                         f"{show_bytes(limit)} a model may use ({source}): set {ENVIRONMENT} "
                         "(for example 8G) to allow more, or fix the model")


def tensor_bytes(shape, dtype):
    """Bytes of a tensor, in Python integers (no overflow for absurd shapes)."""
    count = 1
    for dim in shape:
        count *= max(int(dim), 0)
    return count * np.dtype(dtype).itemsize


def made_shape(op, input_shape, numbers):
    """The output shape of the operators that make a tensor from numbers
    (ConstantOfShape, Expand, Tile, Range), from their first input's shape
    and the values of their number inputs; None for other operators or
    numbers that make no shape (those fail later with their own error)."""
    try:
        if op == "ConstantOfShape":
            return tuple(int(d) for d in np.ravel(numbers[0]))
        if op == "Expand":
            wanted = tuple(int(d) for d in np.ravel(numbers[1]))
            rank = max(len(wanted), len(input_shape))
            have = (1,) * (rank - len(input_shape)) + tuple(input_shape)
            wanted = (1,) * (rank - len(wanted)) + wanted
            return tuple(max(a, b) for a, b in zip(have, wanted))
        if op == "Tile":
            repeats = [int(r) for r in np.ravel(numbers[1])]
            return tuple(d * r for d, r in zip(input_shape, repeats))
        if op == "Range":
            start, limit, delta = (float(np.ravel(v)[0]) for v in numbers[:3])
            return (max(int(np.ceil((limit - start) / delta)), 0),) if delta else None
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None
