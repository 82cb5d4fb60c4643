"""numpy twin of edgeinfer.preprocess."""
import numpy as np

from ..kernels.frame_plan import as_hwc, output_buffer, plan_frame


def _bilinear_taps(in_len, out_len):
    """Left/right source index and right weight per output index, half-pixel centres."""
    pos = (np.arange(out_len) + 0.5) * (in_len / out_len) - 0.5
    pos = np.clip(pos, 0, in_len - 1)
    left = np.floor(pos).astype(np.intp)
    right = np.minimum(left + 1, in_len - 1)
    return left, right, pos - left


def _resize_bilinear(image, out_h, out_w):
    top, bottom, wy = _bilinear_taps(image.shape[0], out_h)
    left, right, wx = _bilinear_taps(image.shape[1], out_w)
    wy, wx = wy[:, None, None], wx[None, :, None]
    upper = image[top][:, left] * (1 - wx) + image[top][:, right] * wx
    lower = image[bottom][:, left] * (1 - wx) + image[bottom][:, right] * wx
    return upper * (1 - wy) + lower * wy


def _nearest_index(in_len, out_len):
    """The input pixel under each output pixel's centre, in exact integer arithmetic."""
    centre_twice = (2 * np.arange(out_len) + 1) * in_len  # 2 * out_len * centre
    return np.minimum(centre_twice // (2 * out_len), in_len - 1)


def _resize_nearest(image, out_h, out_w):
    rows = _nearest_index(image.shape[0], out_h)
    cols = _nearest_index(image.shape[1], out_w)
    return image[rows][:, cols]


def _area_weights(in_len, out_len):
    """(out_len, in_len): how much of output pixel i each input pixel covers."""
    scale = in_len / out_len
    lo = np.arange(out_len)[:, None] * scale
    hi = lo + scale
    j = np.arange(in_len)[None, :]
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0, None)
    return overlap / scale


def _resize_area(image, out_h, out_w):
    rows = _area_weights(image.shape[0], out_h)
    cols = _area_weights(image.shape[1], out_w)
    return np.einsum("yh,hwc,xw->yxc", rows, image, cols, optimize=True)


RESIZERS = {"bilinear": _resize_bilinear, "area": _resize_area, "nearest": _resize_nearest}


def preprocess(frame, size=(224, 224), resize="bilinear", input_color="bgr", color="rgb",
               mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), layout="nchw", crop=None, out=None,
               pad=0.0, dtype="float32"):
    """Same arguments and result as edgeinfer.preprocess, step by step in numpy."""
    frame = as_hwc(frame)
    plan = plan_frame(frame.shape, size=size, resize=resize, input_color=input_color, color=color,
                      mean=mean, std=std, layout=layout, crop=crop, pad=pad, dtype=dtype)
    out = output_buffer(out, plan)
    oc, sampled = plan.out_channels, plan.sampled_channels

    region = plan.region_of(frame)[:, :, :sampled].astype(np.float64)
    box_top, box_left, box_h, box_w = plan.box
    resized = RESIZERS[plan.resize](region, box_h, box_w)
    normalised = resized @ plan.mix[:oc, :sampled].T.astype(np.float64) + plan.bias[:oc]

    canvas = np.empty((plan.out_height, plan.out_width, oc))
    canvas[:] = plan.pad[:oc]
    canvas[box_top:box_top + box_h, box_left:box_left + box_w] = normalised
    if plan.dtype == "uint8":
        canvas = np.clip(np.floor(canvas + 0.5), 0, 255)
    tensor = canvas.transpose(2, 0, 1) if plan.layout == "nchw" else canvas
    out[0] = tensor
    return out
