"""What `preprocess` will do to a frame, decided once from its arguments.

Both the C kernel and the numpy reference run from the same plan, so they
read arguments identically; the arithmetic that follows is theirs alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral, Real

import numpy as np

RESIZE_MODES = ("bilinear", "area", "nearest")  # order matches ei_resize_mode
LAYOUTS = ("nchw", "nhwc")                      # order matches ei_layout
OUTPUT_DTYPES = ("float32", "uint8")            # order matches ei_out_type
INPUT_COLORS = ("bgr", "rgb", "bgra", "rgba", "gray")
OUTPUT_COLORS = ("rgb", "bgr", "gray")

# ITU-R BT.601 luma, as OpenCV's cvtColor uses
GRAY_WEIGHTS = {"r": 0.299, "g": 0.587, "b": 0.114}

IMAGENET_MEAN = (123.675, 116.28, 103.53)  # RGB, 0..255 units
IMAGENET_STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class FramePlan:
    region: tuple          # (top, left, height, width) of the frame that is sampled
    box: tuple             # (top, left, height, width) of the output it fills
    out_height: int
    out_width: int
    out_channels: int      # 1 or 3
    sampled_channels: int  # 1 or 3: an alpha channel is never read
    resize: str
    layout: str
    dtype: str
    mix: np.ndarray        # (3, 3) float32: out[c] = mix[c] @ sampled + bias[c]
    bias: np.ndarray       # (3,) float32
    pad: np.ndarray        # (3,) float32, in output units

    @property
    def output_shape(self):
        if self.layout == "nchw":
            return (1, self.out_channels, self.out_height, self.out_width)
        return (1, self.out_height, self.out_width, self.out_channels)

    def region_of(self, frame):
        top, left, height, width = self.region
        return frame[top:top + height, left:left + width]


def as_hwc(frame):
    """The frame as an H x W x C uint8 array (a view when possible)."""
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"expected a numpy uint8 frame, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"expected a uint8 frame (0..255 pixels), got dtype {frame.dtype}; "
                         "convert with np.clip(frame, 0, 255).astype(np.uint8)")
    if frame.ndim == 2:
        frame = frame[:, :, None]
    if frame.ndim != 3 or frame.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected a frame of shape HxW, HxWx1, HxWx3 or HxWx4, got {frame.shape}")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"the frame is empty: shape {frame.shape}")
    return frame


def _size(size):
    if isinstance(size, Integral) and not isinstance(size, bool):
        size = (size, size)
    # a string is iterable too: '16' would read as 1 x 6
    pair = () if isinstance(size, (str, bytes, bool)) else size
    try:
        height, width = pair
    except (TypeError, ValueError):
        raise ValueError(f"size must be an int or (height, width), got {size!r}") from None
    if not all(_is_whole(s) for s in (height, width)):
        raise ValueError(f"size must be whole numbers of pixels, got {size!r}")
    height, width = int(height), int(width)
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return height, width


def _is_whole(value):
    """An int, or a float with a whole finite value (224.0); not a bool or a string."""
    if isinstance(value, bool):
        return False
    if isinstance(value, Integral):
        return True
    return isinstance(value, Real) and np.isfinite(value) and float(value).is_integer()


def _choice(name, value, allowed):
    value = str(value).lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _per_channel(name, value, channels):
    values = np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
    if values.size > 1 and np.all(values == values[0]):  # (0, 0, 0) also fits grey output
        values = values[:1]
    if values.size == 1:
        values = np.repeat(values, channels)
    if values.size != channels:
        raise ValueError(f"{name} needs 1 or {channels} values for {channels}-channel output, "
                         f"got {values.size}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return values


def _input_colors(input_color, channels):
    """Positions of r, g, b among the sampled channels (all 0 for grey)."""
    if channels == 1:
        return {"r": 0, "g": 0, "b": 0}, 1
    input_color = _choice("input_color", input_color, INPUT_COLORS)
    if input_color == "gray":
        raise ValueError(f"input_color='gray' needs a 1-channel frame, got {channels} channels")
    has_alpha = input_color.endswith("a")
    if channels == 3 and has_alpha:
        raise ValueError(f"input_color={input_color!r} needs 4 channels, the frame has 3")
    order = input_color[:3]
    return {name: order.index(name) for name in "rgb"}, 3


def _mix(color, positions, std):
    mix = np.zeros((3, 3), dtype=np.float64)
    if color == "gray":
        for name, weight in GRAY_WEIGHTS.items():
            mix[0, positions[name]] += weight
    else:
        for c, name in enumerate(color):
            mix[c, positions[name]] = 1.0
    out_channels = 1 if color == "gray" else 3
    mix[:out_channels] /= std[:, None]
    return mix


def _region(crop, frame_h, frame_w, out_h, out_w):
    if isinstance(crop, str) and crop != "letterbox":
        raise ValueError(f"crop={crop!r} is not a crop mode; the only named one is 'letterbox'")
    if crop is None or isinstance(crop, str):
        return (0, 0, frame_h, frame_w)
    if isinstance(crop, Real) and not isinstance(crop, bool):
        fraction = float(crop)
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"a centre crop fraction must be in (0, 1], got {crop}")
        # the largest region with the output's aspect ratio, scaled by the fraction
        fit = min(frame_h / out_h, frame_w / out_w)
        height = max(1, min(frame_h, int(round(out_h * fit * fraction))))
        width = max(1, min(frame_w, int(round(out_w * fit * fraction))))
        return (int(round((frame_h - height) / 2)), int(round((frame_w - width) / 2)), height, width)
    try:
        x, y, width, height = (int(v) for v in crop)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("crop must be None, a centre fraction such as 0.875, 'letterbox' "
                         f"or a box (x, y, width, height); got {crop!r}") from None
    if width < 1 or height < 1 or x < 0 or y < 0 or x + width > frame_w or y + height > frame_h:
        raise ValueError(f"crop box (x={x}, y={y}, width={width}, height={height}) does not lie "
                         f"inside the {frame_w}x{frame_h} frame")
    return (y, x, height, width)


def _box(crop, region, out_h, out_w):
    if not isinstance(crop, str):
        return (0, 0, out_h, out_w)
    _, _, src_h, src_w = region
    scale = min(out_h / src_h, out_w / src_w)
    height = max(1, min(out_h, int(round(src_h * scale))))
    width = max(1, min(out_w, int(round(src_w * scale))))
    return ((out_h - height) // 2, (out_w - width) // 2, height, width)


def _hashable(value):
    if isinstance(value, np.ndarray):
        return tuple(value.ravel().tolist())
    if isinstance(value, list):
        return tuple(value)
    return value


def plan_frame(frame_shape, size=(224, 224), resize="bilinear", input_color="bgr", color="rgb",
               mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), layout="nchw", crop=None, pad=0.0,
               dtype="float32"):
    """Turns preprocess() arguments into a FramePlan, raising ValueError on bad ones.

    A video loop asks for the same plan every frame, so plans are cached."""
    args = tuple(_hashable(v) for v in (frame_shape, size, resize, input_color, color, mean, std,
                                        layout, crop, pad, dtype))
    try:
        hash(args)
    except TypeError:
        return _plan_frame(*args)
    return _cached_plan(*args)


def _plan_frame(frame_shape, size, resize, input_color, color, mean, std, layout, crop, pad,
                dtype):
    frame_h, frame_w, channels = frame_shape
    out_h, out_w = _size(size)
    resize = _choice("resize", resize, RESIZE_MODES)
    layout = _choice("layout", layout, LAYOUTS)
    color = _choice("color", color, OUTPUT_COLORS)
    dtype = _choice("dtype", np.dtype(dtype).name if not isinstance(dtype, str) else dtype,
                    OUTPUT_DTYPES)
    out_channels = 1 if color == "gray" else 3
    mean = _per_channel("mean", mean, out_channels)
    std = _per_channel("std", std, out_channels)
    if np.any(std <= 0):
        raise ValueError(f"std must be positive, got {tuple(std)}")
    if dtype == "uint8" and (np.any(mean != 0) or np.any(std != 1)):
        raise ValueError("dtype='uint8' output is raw 0..255 pixels for quantised models: "
                         "leave mean and std at their defaults")
    pad_values = _per_channel("pad", pad, out_channels)
    positions, sampled = _input_colors(input_color, channels)
    region = _region(crop, frame_h, frame_w, out_h, out_w)
    box = _box(crop, region, out_h, out_w)

    bias = np.zeros(3)
    bias[:out_channels] = -mean / std
    pad_out = np.zeros(3)
    pad_out[:out_channels] = (pad_values - mean) / std
    return FramePlan(region=region, box=box, out_height=out_h, out_width=out_w,
                     out_channels=out_channels, sampled_channels=sampled, resize=resize,
                     layout=layout, dtype=dtype,
                     mix=_mix(color, positions, std).astype(np.float32),
                     bias=bias.astype(np.float32), pad=pad_out.astype(np.float32))


# typed: True == 1.0 in Python, and crop=True (refused) must not be handed the plan
# made for crop=1.0 (the whole frame)
_cached_plan = lru_cache(maxsize=64, typed=True)(_plan_frame)


def output_buffer(out, plan):
    """A caller's output array checked against the plan, or a new one."""
    if out is None:
        return np.empty(plan.output_shape, dtype=plan.dtype)
    if not isinstance(out, np.ndarray) or out.shape != plan.output_shape or out.dtype != plan.dtype:
        got = (getattr(out, "shape", None), getattr(out, "dtype", type(out).__name__))
        raise ValueError(f"out must be a {plan.dtype} array of shape {plan.output_shape}, "
                         f"got shape {got[0]} dtype {got[1]}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("out must be a writeable C-contiguous array")
    return out
