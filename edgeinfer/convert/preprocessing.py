"""The input preparation a model was trained with, as named presets and
key=value overrides, turned into the ImageInput the runtime follows."""
from dataclasses import replace

from ..errors import UserError
from ..kernels.frame_plan import IMAGENET_MEAN, IMAGENET_STD, LAYOUTS, OUTPUT_COLORS, RESIZE_MODES
from ..metadata import ImageInput

# Statistics in 0..255 units: out = (pixel - mean) / std.
PRESETS = {
    # torchvision and most PyTorch ImageNet weights: resize-shorter-side-then-crop 0.875
    "imagenet": dict(color="rgb", mean=IMAGENET_MEAN, std=IMAGENET_STD, crop=0.875),
    # Teachable Machine image projects: centre square, x / 127.5 - 1
    "teachable-machine": dict(color="rgb", mean=(127.5,) * 3, std=(127.5,) * 3, crop=1.0),
    # keras.applications "tf" mode (MobileNet, Inception, Xception): x / 127.5 - 1
    "tf": dict(color="rgb", mean=(127.5,) * 3, std=(127.5,) * 3),
    # keras.applications "caffe" mode (ResNet50, VGG): BGR, ImageNet means, no scaling
    "caffe": dict(color="bgr", mean=(103.939, 116.779, 123.68), std=(1.0,) * 3),
    # x / 255
    "unit": dict(mean=(0.0,) * 3, std=(255.0,) * 3),
    # raw 0..255 floats: models that rescale inside themselves (keras EfficientNet, Rescaling layers)
    "pixels": dict(mean=(0.0,) * 3, std=(1.0,) * 3),
}

KEYS = ("size", "layout", "color", "resize", "crop", "mean", "std", "pad")


def _numbers(text, key, count=None):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"--preprocess {key}= takes comma-separated numbers, got {text!r}") from None
    if count and len(values) == 1:
        values = values * count
    if count and len(values) != count:
        raise UserError(f"--preprocess {key}= takes 1 or {count} numbers, got {text!r}")
    return values


def _parse_value(key, text):
    if key == "size":
        sizes = _numbers(text, key)
        if len(sizes) not in (1, 2) or min(sizes) < 1:
            raise UserError(f"--preprocess size= takes H,W or one number, got {text!r}")
        return (int(sizes[0]), int(sizes[-1]))
    if key in ("mean", "std"):
        if text == "imagenet":
            return IMAGENET_MEAN if key == "mean" else IMAGENET_STD
        return _numbers(text, key, 3)
    if key == "crop":
        if text in ("none", "letterbox"):
            return None if text == "none" else text
        value = _numbers(text, key)
        if len(value) != 1 or not 0 < value[0] <= 1:
            raise UserError("--preprocess crop= takes a fraction in (0, 1], 'none' or 'letterbox'")
        return value[0]
    if key == "pad":
        return _numbers(text, key)[0]
    allowed = {"layout": LAYOUTS, "color": OUTPUT_COLORS, "resize": RESIZE_MODES}[key]
    if text not in allowed:
        raise UserError(f"--preprocess {key}= takes one of {', '.join(allowed)}; got {text!r}")
    return text


def apply_spec(image, spec):
    """image with the presets and key=value pairs of spec applied in order.

    spec: None, a string ("imagenet size=256,256 crop=none"), a list of such
    strings, or a dict of ImageInput fields."""
    if spec is None:
        return image
    if isinstance(spec, dict):
        unknown = set(spec) - set(KEYS) - {"dtype"}
        if unknown:
            raise UserError(f"unknown preprocessing keys {sorted(unknown)}; known: {', '.join(KEYS)}")
        return replace(image, **spec)
    words = spec.split() if isinstance(spec, str) else [w for part in spec for w in part.split()]
    for word in words:
        if "=" in word:
            key, _, text = word.partition("=")
            if key not in KEYS:
                raise UserError(f"--preprocess: unknown key {key!r}; known: {', '.join(KEYS)}")
            image = replace(image, **{key: _parse_value(key, text)})
        elif word in PRESETS:
            image = replace(image, **PRESETS[word])
        else:
            raise UserError(f"--preprocess: unknown preset {word!r}; presets: {', '.join(PRESETS)}, "
                            f"or key=value with keys {', '.join(KEYS)}")
    return image


def preset(name, **fields):
    return replace(ImageInput(), **{**PRESETS[name], **fields})


def _text(values):
    return ",".join(f"{v:g}" for v in values)


def spec_words(image):
    """image as the --preprocess words that would declare it, for the user to
    read or pass back."""
    if image.crop is None or image.crop == "letterbox":
        crop = image.crop or "none"
    else:
        crop = _text(image.crop if isinstance(image.crop, tuple) else (image.crop,))
    return (f"size={image.size[0]},{image.size[1]} layout={image.layout} color={image.color} "
            f"resize={image.resize} crop={crop} mean={_text(image.mean)} std={_text(image.std)}")
