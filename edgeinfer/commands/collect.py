"""`edgeinfer collect`: labelled samples from a camera, video, stream, images
or a sensor stream into DATA/<label>/, for `edgeinfer personalize`."""
from __future__ import annotations

import sys
from types import SimpleNamespace

from ..errors import UserError
from ..learn.collect import ClassFolder, collect
from ..metadata import SensorInput
from ..progress import progress
from . import options

PROG = "edgeinfer collect"


def add_arguments(parser):
    parser.add_argument("--data", "-d", required=True, metavar="DATA",
                        help="the data folder; samples go to DATA/LABEL/ (appended, never "
                             "overwritten)")
    parser.add_argument("--label", "-l", required=True, help="the class of these samples")
    source = parser.add_argument_group("source (one of; default: camera 0)")
    choice = source.add_mutually_exclusive_group()
    choice.add_argument("--camera", metavar="N|picam", help="a camera: 0, /dev/videoN or picam")
    choice.add_argument("--video", metavar="FILE", help="a video file")
    choice.add_argument("--url", metavar="URL", help="a network stream")
    choice.add_argument("--image", nargs="+", metavar="FILE|DIR|GLOB",
                        help="image files, folders of images, or quoted patterns")
    choice.add_argument("--sensor", metavar="CSV|-|serial:PORT@BAUD|udp:HOST:PORT",
                        help="a sensor sample stream, cut into windows")
    parser.add_argument("--count", type=int, default=None, metavar="N",
                        help="frames to save (default: until the source ends or Ctrl-C)")
    parser.add_argument("--every", type=int, default=1, metavar="N",
                        help="save every Nth frame or window")
    options.add_quiet(parser, "no progress bar")
    sensor = parser.add_argument_group("sensor windows (with --sensor)")
    sensor.add_argument("--windows", type=int, default=None, metavar="N",
                        help="windows to save (default: until the stream ends or Ctrl-C)")
    sensor.add_argument("--model", "-m", metavar="M.onnx",
                        help="take window, hop and channels from this sensor model")
    sensor.add_argument("--window", type=int, default=None, metavar="SAMPLES")
    sensor.add_argument("--hop", type=int, default=None, metavar="SAMPLES",
                        help="samples between window starts (default: the window, no overlap)")
    sensor.add_argument("--channels", metavar="a,b,c", help="channel names, in order")


def _sensor_settings(args):
    if args.model:
        from ..model import load

        model = load(args.model, backend="native")
        if model.info.sensor is None or model.info.image is not None:
            raise UserError(f"{args.model} is not a sensor model: --model with --sensor takes "
                            "the window settings of a sensor model")
        sensor = model.info.sensor
        return SensorInput(window=args.window or sensor.window, hop=args.hop or sensor.hop,
                           channels=sensor.channels, sample_rate=sensor.sample_rate)
    if not args.window or not args.channels:
        raise UserError("--sensor needs the window settings: --model BASE.onnx, or --window "
                        "SAMPLES --channels a,b,c [--hop SAMPLES]")
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    return SensorInput(window=args.window, hop=args.hop or args.window, channels=channels)


def run(args):
    for flag, value in (("--count", args.count), ("--every", args.every),
                        ("--windows", args.windows), ("--window", args.window),
                        ("--hop", args.hop)):
        if value is not None and value < 1:
            raise UserError(f"{flag} must be at least 1, got {value}")
    if not args.sensor and (args.windows or args.window or args.channels or args.model):
        raise UserError("--windows, --window, --hop, --channels and --model cut a sensor "
                        "stream: give it with --sensor")
    folder = ClassFolder(args.data, args.label)
    channels = None
    if args.sensor:
        from ..sensor.stream import open_sensor_windows

        sensor = _sensor_settings(args)
        channels = list(sensor.channels)
        source = open_sensor_windows(args.sensor, sensor)
        count = args.windows or args.count
    else:
        from .run import open_source

        source = open_source(SimpleNamespace(sensor=None, video=args.video, realtime=False,
                                             image=args.image, url=args.url,
                                             camera=args.camera), None)
        count = args.count
    print(f"{PROG}: {source.description} -> {folder.folder}/ from "
          f"{folder.next_number:04d}", file=sys.stderr)
    interrupted = False
    kind = "windows" if channels else "frames"
    try:
        with progress(total=count, desc=f"saving {kind}", unit=kind[:-1],
                      quiet=args.quiet) as bar:
            collect(source, folder, count=count, every=args.every, channels=channels,
                    progress=lambda done, total, path: bar.update())
    except KeyboardInterrupt:
        interrupted = True
    finally:
        source.close()
    print(f"{PROG}: {'interrupted; ' if interrupted else ''}saved {len(folder.saved)} {kind} "
          f"in {folder.folder}", file=sys.stderr)
    if not folder.saved and not interrupted:
        raise UserError(f"the source gave no {kind}: nothing saved in {folder.folder}")
    return 130 if interrupted else 0
