"""Frame to model input tensor in one pass over memory, in C."""
import numpy as np

from ..core.loader import core as _core
from .frame_plan import LAYOUTS, OUTPUT_DTYPES, RESIZE_MODES, as_hwc, output_buffer, plan_frame


def preprocess(frame, size=(224, 224), resize="bilinear", input_color="bgr", color="rgb",
               mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), layout="nchw", crop=None, out=None,
               pad=0.0, dtype="float32"):
    """Crop, resize, reorder colours, normalise and lay out a uint8 frame.

    frame: H x W, H x W x 1 (grey), H x W x 3 or H x W x 4 uint8; any strides
        (a crop or flip of a larger frame is read in place).
    size: (height, width) of the output, or one int for a square.
    resize: "bilinear" (half-pixel centres, no antialiasing: OpenCV INTER_LINEAR,
        ONNX Resize linear/half_pixel), "area" (each output pixel averages the
        source area it covers: OpenCV INTER_AREA when both sides shrink or both
        enlarge; when enlarging it blends at most two pixels per axis), or
        "nearest" (the pixel under each output pixel's centre, computed
        exactly: OpenCV INTER_NEAREST_EXACT and PIL NEAREST, which differ from
        it and from each other only where a centre falls exactly on a pixel
        boundary, by their rounding).
    input_color: channel order of the frame ("bgr" as OpenCV captures,
        "rgb", "bgra", "rgba"); 1-channel frames are grey whatever it says.
    color: channel order of the output: "rgb", "bgr" or "gray" (BT.601 luma).
    mean, std: per output channel, in 0..255 units: out = (pixel - mean) / std.
    layout: "nchw" -> (1, C, h, w); "nhwc" -> (1, h, w, C).
    crop: None (whole frame), a fraction such as 0.875 (centre crop with the
        output's aspect ratio, that fraction of the largest one that fits:
        resize-shorter-side-then-centre-crop in one step), a box
        (x, y, width, height) in frame pixels, or "letterbox" (keep the aspect
        ratio, fill the rest with `pad`).
    out: an array of the output's shape and dtype to write into.
    pad: letterbox fill, in pixel units (one value or one per output channel).
    dtype: "float32", or "uint8" for quantised models (raw pixels, rounded;
        mean and std must stay at their defaults).
    """
    frame = as_hwc(frame)
    plan = plan_frame(frame.shape, size=size, resize=resize, input_color=input_color, color=color,
                      mean=mean, std=std, layout=layout, crop=crop, pad=pad, dtype=dtype)
    out = output_buffer(out, plan)
    region = plan.region_of(frame)
    if region.strides[2] != 1:  # e.g. frame[:, :, ::-1]: one copy, then the fast path
        region = np.ascontiguousarray(region)
    _core.preprocess(region, plan.sampled_channels,
                     (plan.out_height, plan.out_width, plan.out_channels), plan.box,
                     RESIZE_MODES.index(plan.resize), LAYOUTS.index(plan.layout),
                     OUTPUT_DTYPES.index(plan.dtype), plan.mix, plan.bias, plan.pad,
                     out.reshape(-1).view(np.uint8))
    return out
