"""`edgeinfer preprocess`: one image through the fused C preprocessing, with
the tensor's statistics and a timing beside the numpy reference and OpenCV."""
import os
import time

import numpy as np

from .. import kernels, reference
from ..errors import UserError
from ..kernels.frame_plan import IMAGENET_MEAN, IMAGENET_STD
from ..media import SAMPLE_IMAGE, read_image
from ..sinks.output_files import save_npy

NAMED_STATS = {"imagenet-mean": IMAGENET_MEAN, "imagenet-std": IMAGENET_STD}


def _floats(text, name):
    key = f"{text}-{name}"
    if key in NAMED_STATS:
        return NAMED_STATS[key]
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UserError(f"--{name} takes 'imagenet' or comma-separated numbers, got {text!r}") from None


def _crop(text):
    if text is None or text == "letterbox":
        return text
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 1:
        return values[0]
    if len(values) == 4:
        return tuple(int(v) for v in values)
    raise UserError(f"--crop takes a fraction (0.875), 'letterbox' or x,y,width,height; got {text!r}")


def add_arguments(parser):
    parser.add_argument("image", nargs="?", default=None,
                        help="image file (default: the bundled sample photo)")
    parser.add_argument("--size", default="224", help="H,W or one number (default 224)")
    parser.add_argument("--resize", default="bilinear", help="bilinear | area | nearest")
    parser.add_argument("--crop", default=None, help="0.875 | letterbox | x,y,width,height")
    parser.add_argument("--color", default="rgb", help="rgb | bgr | gray")
    parser.add_argument("--layout", default="nchw", help="nchw | nhwc")
    parser.add_argument("--mean", default="imagenet", help="'imagenet' or r,g,b in 0..255 units")
    parser.add_argument("--std", default="imagenet", help="'imagenet' or r,g,b in 0..255 units")
    parser.add_argument("--repeat", type=int, default=200, help="timing runs (0: no timing)")
    parser.add_argument("--save", default=None, help="write the tensor to this .npy file")


def _median_seconds(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _opencv_pipeline(frame, size, mean, std):
    import cv2

    resized = cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32)
    return np.ascontiguousarray(((rgb - mean) / std).transpose(2, 0, 1)[None])


def run(args):
    path = args.image or SAMPLE_IMAGE
    frame = read_image(path)
    sizes = [int(v) for v in args.size.split(",")]
    size = (sizes[0], sizes[-1])
    options = dict(size=size, resize=args.resize, crop=_crop(args.crop), color=args.color,
                   layout=args.layout, mean=_floats(args.mean, "mean"),
                   std=_floats(args.std, "std"))
    try:
        tensor = kernels.preprocess(frame, **options)
    except ValueError as error:
        raise UserError(str(error)) from None

    print(f"image      {path} ({frame.shape[1]}x{frame.shape[0]}, {frame.shape[2]} channels)")
    print(f"tensor     shape {tensor.shape} {tensor.dtype}, {args.layout}, {args.color}")
    planes = tensor[0] if args.layout == "nchw" else np.moveaxis(tensor[0], -1, 0)
    for name, plane in zip(args.color if args.color != "gray" else ["gray"], planes):
        print(f"  {name:4}     mean {plane.mean():+.3f}  min {plane.min():+.3f}  max {plane.max():+.3f}")
    if args.repeat > 0:
        out = np.empty_like(tensor)
        ours = _median_seconds(lambda: kernels.preprocess(frame, out=out, **options), args.repeat)
        ref = _median_seconds(lambda: reference.preprocess(frame, **options),
                              max(3, args.repeat // 20))
        rows = [("edgeinfer (C, fused)", ours), ("numpy reference", ref)]
        if options["crop"] is None and args.resize == "bilinear" and args.color == "rgb" \
                and args.layout == "nchw":
            mean = np.asarray(options["mean"], np.float32)
            std = np.asarray(options["std"], np.float32)
            rows.append(("OpenCV resize+cvtColor+normalise",
                         _median_seconds(lambda: _opencv_pipeline(frame, size, mean, std),
                                         args.repeat)))
        print("timing (median per frame)")
        for name, seconds in rows:
            print(f"  {name:34} {seconds * 1e6:9.1f} us   {seconds / ours:6.1f}x edgeinfer")
    if args.save:
        save_npy(args.save, tensor)
        print(f"saved      {os.path.abspath(args.save)}")
    return 0
