"""`edgeinfer run`: a model on a camera, Pi camera, video, stream or images,
printing labelled predictions as they come, with where the time went."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from ..backends import BACKENDS
from ..errors import SourceError, UserError
from ..labels import read_labels
from ..model import load
from ..pipeline import Pipeline
from ..postprocess import Postprocessor
from ..sinks import ConsoleSink, CsvSink, JsonLinesSink, VideoFileSink, WindowSink
from ..sources import open_camera, open_images, open_picam, open_stream, open_video
from ..sources.sensor import open_sensor_windows

PROG = "edgeinfer run"
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}


def add_arguments(parser):
    parser.add_argument("--model", "-m", metavar="M.onnx",
                        help="the model file (its metadata sets size, colours, labels ...)")
    source = parser.add_argument_group("source (one of; default: camera 0)")
    choice = source.add_mutually_exclusive_group()
    choice.add_argument("--camera", metavar="N|picam",
                        help="a camera: 0 for the first (V4L2/USB), a /dev/video path, or "
                             "'picam' for a Raspberry Pi camera module through picamera2")
    choice.add_argument("--video", metavar="FILE", help="a video file; every frame, in order")
    choice.add_argument("--url", metavar="URL", help="a network stream: rtsp://, http://, ...")
    choice.add_argument("--image", nargs="+", metavar="FILE|DIR|GLOB",
                        help="image files, folders of images, or quoted patterns")
    choice.add_argument("--sensor", metavar="CSV|-|serial:PORT@BAUD|udp:HOST:PORT",
                        help="a sensor sample stream for a sensor model: a CSV file, - for "
                             "standard input, a serial port or UDP datagrams")
    source.add_argument("--realtime", action="store_true",
                        help="play a video file at its own frame rate, dropping frames the "
                             "model cannot keep up with, as a camera would")
    results = parser.add_argument_group("results")
    results.add_argument("--top-k", type=int, default=3, metavar="K",
                         help="predictions per frame (default 3)")
    results.add_argument("--threshold", type=float, default=0.0, metavar="P",
                         help="leave out predictions scoring below P (0..1)")
    results.add_argument("--smoothing", type=int, default=1, metavar="N",
                         help="average scores over the last N classified frames of a "
                              "camera, video, stream or sensor (not with --image)")
    results.add_argument("--labels", metavar="FILE",
                         help="class names, one per line, overriding the model's")
    results.add_argument("--every", type=int, default=1, metavar="N",
                         help="classify every Nth frame")
    results.add_argument("--max-frames", type=int, default=None, metavar="N",
                         help="stop after N frames from the source")
    results.add_argument("--json", metavar="OUT.jsonl",
                         help="write a JSON line per result ('-': to standard output, in place "
                              "of the console lines)")
    results.add_argument("--csv", metavar="OUT.csv", help="write a CSV row per result ('-': to "
                                                          "standard output)")
    results.add_argument("--show", action="store_true",
                         help="show frames with their labels in a window (needs a display)")
    results.add_argument("--save-video", metavar="OUT.mp4",
                         help="write the frames with their labels burnt in (.mp4 or .avi)")
    results.add_argument("--quiet", "-q", action="store_true",
                         help="no line per result on the terminal; the summary still prints")
    engine = parser.add_argument_group("engine")
    engine.add_argument("--backend", default="auto",
                        help=" | ".join(["auto", *BACKENDS]) + " (auto: the best installed)")
    engine.add_argument("--output", metavar="NAME", default=None,
                        help="the graph output holding the class scores, for a model with "
                             "several (default: the one its metadata names, else the first)")
    engine.add_argument("--threads", type=int, default=None, metavar="N",
                        help="threads for inference (default: all cores); a frame's "
                             "preprocessing runs on one")
    engine.add_argument("--ray", metavar="auto|ADDRESS",
                        help="classify the --image files on a Ray cluster (auto: the running "
                             "one, else a local instance); needs edgeinfer[ray]")


class _StderrHandler(logging.Handler):
    """Warnings as one line each on whatever sys.stderr is at the time."""

    def emit(self, record):
        sys.stderr.write(f"{PROG}: warning: {record.getMessage()}\n")
        sys.stderr.flush()


def _show_warnings():
    logger = logging.getLogger("edgeinfer")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler(logging.WARNING))
    logger.setLevel(logging.WARNING)


def _check_numbers(args):
    rules = [("--top-k", args.top_k, 1), ("--smoothing", args.smoothing, 1),
             ("--every", args.every, 1), ("--max-frames", args.max_frames, 1),
             ("--threads", args.threads, 1)]
    for flag, value, least in rules:
        if value is not None and value < least:
            raise UserError(f"{flag} must be at least {least}, got {value}")
    if not 0.0 <= args.threshold <= 1.0:
        raise UserError(f"--threshold is a probability from 0 to 1, got {args.threshold}")
    if args.realtime and not args.video:
        raise UserError("--realtime paces a video file (--video); cameras and streams are "
                        "always live")
    if args.image and args.smoothing > 1:
        # averaging the scores of unrelated photos would label one by the others
        raise UserError("--smoothing averages scores over a sequence (camera, video, stream or "
                        "sensor); the files given with --image are classified one by one, so "
                        "leave it out for them")


def open_source(args, model):
    if args.sensor:
        return open_sensor_windows(args.sensor, model.info.sensor)
    if args.video:
        return open_video(args.video, realtime=args.realtime)
    if args.image:
        return open_images(args.image)
    if args.url:
        return open_stream(args.url)
    if args.camera is not None:
        if str(args.camera).lower() == "picam":
            return open_picam()
        return open_camera(args.camera)
    try:
        return open_camera(0)
    except SourceError as error:
        why = "there is no camera 0 (/dev/video0)" if not os.path.exists("/dev/video0") else \
            f"camera 0 does not work ({error})"
        raise UserError(f"no source given, and {why}: point it at a video with --video FILE, at "
                        "images with --image FILE|DIR, at a stream with --url URL, or at another "
                        "camera with --camera N|picam") from None


def open_sinks(args, fps):
    sinks, frame_sinks = [], []
    try:
        # the ones that can refuse (no display, bad video name) before any file is made
        if args.show:
            frame_sinks.append(WindowSink(f"edgeinfer: {os.path.basename(args.model)}"))
        if args.save_video:
            frame_sinks.append(VideoFileSink(args.save_video, fps))
        if not args.quiet and "-" not in (args.json, args.csv):
            sinks.append(ConsoleSink())
        if args.json:
            sinks.append(JsonLinesSink(args.json))
        if args.csv:
            sinks.append(CsvSink(args.csv))
    except BaseException:
        for sink in sinks + frame_sinks:
            sink.close()
        raise
    return sinks, frame_sinks


def _describe(model):
    image = model.info.image
    if image is None:
        return f"{model.path} ({model.info.task}, {model.classes or '?'} classes, " \
               f"{model.backend.name})"
    classes = model.classes or len(model.labels) or "?"
    return (f"{model.path} ({image.size[0]}x{image.size[1]} {image.color}, {classes} classes, "
            f"{model.backend.name})")


class _StopOnSignals:
    """SIGINT/SIGTERM end the run after the frame in hand, so every file is
    complete and the summary prints; a second one stops at once."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for name in EXIT_CODES:
                signum = getattr(signal, name)
                self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, _frame):
        if self.pipeline.stopping:
            raise KeyboardInterrupt
        self.pipeline.stop(signal.Signals(signum).name)

    def __exit__(self, *exc):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        return False


def run(args):
    _show_warnings()
    _check_numbers(args)
    if not args.model:
        raise UserError("--model is required: the .onnx file to run (make one from a Keras or "
                        "PyTorch model with `edgeinfer convert`)")
    labels = read_labels(args.labels) if args.labels else None
    model = load(args.model, backend=args.backend, threads=args.threads, labels=labels,
                 output_name=args.output)
    if model.info.image is None and not args.sensor:
        raise UserError(f"{args.model} is a {model.info.task} model: it classifies sensor "
                        "windows, not images; give it a stream with --sensor FILE|-|serial:..."
                        "|udp:...")
    if args.sensor and model.info.image is not None:
        raise UserError(f"{args.model} classifies images; --sensor needs a sensor model")
    if args.sensor and (args.show or args.save_video):
        raise UserError("--show and --save-video draw on camera frames; a sensor run has none")
    try:
        postprocessor = Postprocessor(model.labels, args.top_k, args.threshold, args.smoothing)
    except ValueError as error:
        raise UserError(str(error)) from None
    if args.ray:
        from .run_ray import run_on_ray

        return run_on_ray(args, model, open_sinks)
    source = open_source(args, model)
    try:
        sinks, frame_sinks = open_sinks(args, source.fps)
    except BaseException:
        source.close()
        raise
    pipeline = Pipeline(source, model, postprocessor, sinks, frame_sinks, every=args.every,
                        max_frames=args.max_frames)
    if not args.quiet:
        print(f"{PROG}: {_describe(model)} on {source.description}", file=sys.stderr)
    try:
        with _StopOnSignals(pipeline):
            pipeline.run()
    finally:
        _print_summary(pipeline, args)
    stats = pipeline.stats
    if stats.classified == 0 and pipeline.stop_reason is None:
        skipped = f", {stats.skipped} skipped (see the warnings above)" if stats.skipped else ""
        raise UserError(f"nothing was classified: {source.description} gave nothing the "
                        f"model could take{skipped}")
    return EXIT_CODES.get(pipeline.stop_reason, 0)


def _print_summary(pipeline, args):
    stopped = pipeline.stop_reason
    lines = pipeline.stats.summary().splitlines()
    head = f"{PROG}: " + (f"stopped ({stopped}) after " if stopped else "") + lines[0]
    written = [path for path in (args.json, args.csv, args.save_video) if path and path != "-"]
    tail = [f"  written: {', '.join(written)}"] if written else []
    print("\n".join([head] + lines[1:] + tail), file=sys.stderr)
    sys.stderr.flush()
