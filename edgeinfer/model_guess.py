"""Image settings for a model file without edgeinfer metadata: read off its
input's shape and type where they show, assumed (and listed, so load can
warn) where they do not. The metadata (metadata.py) is what a converted
file carries instead of these guesses."""
from __future__ import annotations

import numpy as np

from .errors import ModelError


def show_shape(shape):
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def guess_image(origin, shape, input_dtype, given, assumed):
    """ImageInput fields for an input of `shape` (N, C, H, W or N, H, W, C) and
    `input_dtype`, around the settings `given`; each assumption is appended to
    `assumed` as words for the warning."""
    guess = {}
    if "layout" not in given:
        if shape[1] in (1, 3):
            guess["layout"] = "nchw"
        elif shape[3] in (1, 3):
            guess["layout"] = "nhwc"
        else:
            raise ModelError(f"{origin}: cannot tell the channel axis of input shape "
                             f"{show_shape(shape)}: pass image=dict(layout='nchw' or 'nhwc')")
    layout = given.get("layout", guess.get("layout"))
    channels, height, width = (shape[1], shape[2], shape[3]) if layout == "nchw" else \
        (shape[3], shape[1], shape[2])
    if "size" not in given:
        if height is None or width is None:
            guess["size"] = (224, 224)
            assumed.append("size 224x224 (the input's height and width are free)")
        else:
            guess["size"] = (height, width)
    if "color" not in given:
        guess["color"] = "gray" if channels == 1 else "rgb"
        if channels != 1:
            assumed.append("colour order RGB")
    if "dtype" not in given:
        guess["dtype"] = "uint8" if input_dtype == np.uint8 else "float32"
    if guess.get("dtype", given.get("dtype")) == "float32" and not {"mean", "std"} & set(given):
        guess["std"] = (255.0, 255.0, 255.0)
        assumed.append("pixels scaled to 0..1 (mean 0, std 255)")
    if not {"resize", "crop"} & set(given):
        assumed.append("the whole frame resized bilinearly, no crop")
    guess.update(given)
    return guess
