"""`edgeinfer preprocess`: one image through the fused C preprocessing, with
the tensor's statistics and a timing beside the numpy reference and OpenCV."""
import argparse
import os
import time

import numpy as np

from .. import kernels, reference
from ..errors import UserError
from ..kernels.frame_plan import IMAGENET_MEAN, IMAGENET_STD
from ..media import SAMPLE_IMAGE, read_image
from ..sinks.output_files import save_npy

NAMED_STATS = {"imagenet-mean": IMAGENET_MEAN, "imagenet-std": IMAGENET_STD}


# The values are parsed as argparse reads the command line, so a bad one is
# argparse's one-line error (exit status 2), never a traceback.

def _stats(name):
    def parse(text):
        key = f"{text}-{name}"
        if key in NAMED_STATS:
            return NAMED_STATS[key]
        try:
            return tuple(float(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes 'imagenet' or comma-separated numbers, "
                                             f"got {text!r}") from None
    return parse


def _size(text):
    try:
        sizes = [int(v) for v in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) not in (1, 2) or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"takes H,W or one number such as 224, got {text!r}")
    return sizes[0], sizes[-1]


def _crop(text):
    if text == "letterbox":
        return text
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 1:
        return values[0]
    if len(values) == 4:
        return tuple(int(v) for v in values)
    raise argparse.ArgumentTypeError(f"takes a fraction (0.875), 'letterbox' or "
                                     f"x,y,width,height; got {text!r}")


def _repeats(text):
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"takes a number of runs, 0 or more; got {text!r}")
    return count


def add_arguments(parser):
    parser.add_argument("image", nargs="?", default=None,
                        help="image file (default: the bundled sample photo)")
    parser.add_argument("--image", dest="image_option", metavar="FILE",
                        help="the image file, as IMAGE")
    parser.add_argument("--size", type=_size, default=(224, 224),
                        help="H,W or one number (default 224)")
    parser.add_argument("--resize", default="bilinear", choices=["bilinear", "area", "nearest"])
    parser.add_argument("--crop", type=_crop, default=None,
                        help="0.875 | letterbox | x,y,width,height")
    parser.add_argument("--color", default="rgb", choices=["rgb", "bgr", "gray"])
    parser.add_argument("--layout", default="nchw", choices=["nchw", "nhwc"])
    parser.add_argument("--mean", type=_stats("mean"), default="imagenet",
                        help="'imagenet' or r,g,b in 0..255 units")
    parser.add_argument("--std", type=_stats("std"), default="imagenet",
                        help="'imagenet' or r,g,b in 0..255 units")
    parser.add_argument("--repeat", type=_repeats, default=200,
                        help="timing runs (0: no timing)")
    parser.add_argument("--save", "-o", default=None, metavar="OUT.npy",
                        help="write the tensor to this .npy file")


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
    if args.image and args.image_option:
        raise UserError("give the image once: as IMAGE or as --image")
    path = args.image or args.image_option or SAMPLE_IMAGE
    frame = read_image(path)
    size = args.size
    options = dict(size=size, resize=args.resize, crop=args.crop, color=args.color,
                   layout=args.layout, mean=args.mean, std=args.std)
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
