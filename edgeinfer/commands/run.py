"""`edgeinfer run`: one model or several side by side on a camera, Pi camera,
video, stream, images or a sensor stream, printing labelled predictions as
they come, with where the time went."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from contextlib import nullcontext

from ..backends import BACKENDS
from ..backends.devices import short_name as short_device
from ..errors import SourceError, UserError
from ..labels import read_labels
from ..model import load
from ..run.classifier import Classifier, distinct_names
from ..run.pipeline import Pipeline
from ..run.postprocess import Postprocessor
from ..run.run_stats import counted
from ..run.stream import open_source as open_named_source
from ..sinks import ConsoleSink, CsvSink, JsonLinesSink, VideoFileSink, WindowSink
from ..sinks.output_files import atomic_write
from ..sinks.saved_run import SavedRunSink, new_run_folder
from ..sources import open_camera
from ..sources.background import OpenInBackground
from .mqtt_options import add_mqtt, open_mqtt
from .options import add_device, add_labels, add_threads, add_top_k, resolve_threads

PROG = "edgeinfer run"
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}


def add_arguments(parser):
    parser.add_argument("--model", "-m", metavar="M.onnx", action="append",
                        help="the model file (its metadata sets size, colours, labels ...); "
                             "give it again for several models side by side on each frame")
    add_source_arguments(parser, "source (one of; default: camera 0)")
    results = parser.add_argument_group("results")
    add_top_k(results)
    results.add_argument("--threshold", type=float, default=0.0, metavar="P",
                         help="leave out predictions scoring below P (0..1)")
    results.add_argument("--smoothing", type=int, default=1, metavar="N",
                         help="average scores over the last N classified frames of a "
                              "camera, video, stream or sensor (not with --image)")
    add_labels(results, "class names overriding the model's (one model)")
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
    results.add_argument("--save", nargs="?", const="runs", default=None, metavar="DIR",
                         help="save annotated copies of the images (or the annotated video of "
                              "a video, camera or stream) and the JSON lines in a new folder "
                              "DIR/predict, DIR/predict-2, ... (DIR default: runs)")
    results.add_argument("--save-video", metavar="OUT.mp4",
                         help="write the frames of a video, camera or stream with their labels "
                              "burnt in (.mp4 or .avi)")
    results.add_argument("--quiet", "-q", action="store_true",
                         help="no line per result on the terminal; the summary still prints")
    engine = parser.add_argument_group("engine")
    engine.add_argument("--backend", default="auto",
                        help=" | ".join(["auto", *BACKENDS]) + " (auto: the best installed)")
    engine.add_argument("--output", metavar="NAME", default=None,
                        help="the graph output holding the class scores, for a model with "
                             "several (default: the one its metadata names, else the first; "
                             "one model)")
    add_device(engine)
    add_threads(engine, "the backend's default; a frame's preprocessing runs on one")
    engine.add_argument("--ray", metavar="auto|ADDRESS",
                        help="classify the --image files on a Ray cluster (auto: the running "
                             "one, else a local instance); needs the ray extra: "
                             "pip install '.[ray]'")
    add_mqtt(parser)


def add_source_arguments(parser, title):
    """The source options (one of --camera, --video, --url, --image, --sensor; and
    --realtime), as `open_source` reads them; `serve` takes the same."""
    source = parser.add_argument_group(title)
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


class _StderrHandler(logging.Handler):
    """Warnings as one line each on whatever sys.stderr is at the time."""

    def __init__(self, prog=PROG):
        super().__init__(logging.WARNING)
        self.prog = prog

    def emit(self, record):
        sys.stderr.write(f"{self.prog}: warning: {record.getMessage()}\n")
        sys.stderr.flush()


def show_warnings(prog=PROG):
    """The library's warnings (a model's assumed settings, a frame skipped ...) as
    one `PROG: warning: ...` line each on stderr."""
    logger = logging.getLogger("edgeinfer")
    for handler in logger.handlers:
        if isinstance(handler, _StderrHandler):
            handler.prog = prog
            break
    else:
        logger.addHandler(_StderrHandler(prog))
    logger.setLevel(logging.WARNING)


def _check_numbers(args):
    rules = [("--top-k", args.top_k, 1), ("--smoothing", args.smoothing, 1),
             ("--every", args.every, 1), ("--max-frames", args.max_frames, 1)]
    for flag, value, least in rules:
        if value is not None and value < least:
            raise UserError(f"{flag} must be at least {least}, got {value}")
    if not 0.0 <= args.threshold <= 1.0:
        raise UserError(f"--threshold is a probability from 0 to 1, got {args.threshold}")
    if args.realtime and not args.video:
        raise UserError("--realtime paces a video file (--video); cameras and streams are "
                        "always live")
    if args.image and args.save_video:
        # one video of unrelated photos, each stretched to the first one's size, is no use
        raise UserError("--save-video makes one video of a video, camera or stream; for "
                        "--image files, --save [DIR] writes an annotated copy of each")
    if args.image and args.smoothing > 1:
        # averaging the scores of unrelated photos would label one by the others
        raise UserError("--smoothing averages scores over a sequence (camera, video, stream or "
                        "sensor); the files given with --image are classified one by one, so "
                        "leave it out for them")


def open_source(args, sensor=None):
    """The source the arguments name; `sensor` the models' SensorInput with --sensor."""
    if any(value is not None for value in (args.camera, args.video, args.image, args.url,
                                           args.sensor)):
        return open_named_source(args.camera, args.video, args.image, args.url, args.sensor,
                                 sensor_input=sensor, realtime=args.realtime)
    try:
        return open_camera(0)
    except SourceError as error:
        why = "there is no camera 0 (/dev/video0)" if not os.path.exists("/dev/video0") else \
            f"camera 0 does not work ({error})"
        raise UserError(f"no source given, and {why}: point it at a video with --video FILE, at "
                        "images with --image FILE|DIR, at a stream with --url URL, or at another "
                        "camera with --camera N|picam") from None


def open_sinks(args, fps):
    """The sinks the arguments ask for; the --save folder, made last, is args.saved."""
    sinks, overlays = [], []
    try:
        # the ones that can refuse (no display, bad video name) before any file is made
        if args.show:
            names = ", ".join(os.path.basename(path) for path in args.model)
            overlays.append(WindowSink(f"edgeinfer: {names}"))
        if args.save_video:
            overlays.append(VideoFileSink(args.save_video, fps))
        mqtt = open_mqtt(args)  # connects: a bad URL, no broker or a refused login stop here
        if mqtt:
            sinks.append(mqtt)
        if not args.quiet and "-" not in (args.json, args.csv):
            sinks.append(ConsoleSink())
        if args.json:
            sinks.append(JsonLinesSink(args.json))
        if args.csv:
            sinks.append(CsvSink(args.csv, models=len(args.model)))
        if getattr(args, "save", None):
            args.saved = new_run_folder(args.save)
            overlays.append(SavedRunSink(args.saved, _video_name(args), fps))
    except BaseException:
        for sink in overlays + sinks:
            sink.close()
        raise
    return sinks + overlays  # results are written before frames are drawn


def _video_name(args):
    """The annotated video's name in a --save folder: the video's own, else the kind of source."""
    if args.video:
        return os.path.splitext(os.path.basename(args.video))[0] + ".mp4"
    return "stream.mp4" if args.url else "camera.mp4"


def _engine(model):
    """Where a model runs: its backend, device, execution provider and thread count."""
    backend = model.backend
    provider = getattr(backend, "provider", None)
    return {"backend": backend.name, "device": short_device(provider or "cpu"),
            "provider": provider, "threads": getattr(backend, "thread_count", None)}


def _show_engine(model):
    """'onnxruntime on cpu, 2 threads' ('up to 2' until a free-size model's first frame)."""
    engine = _engine(model)
    threads = engine["threads"]
    up_to = "" if getattr(model.backend, "threads_settled", True) or threads == 1 else "up to "
    return f"{engine['backend']} on {engine['device']}, " + (
        up_to + counted(threads, "thread") if threads else "default threads")


def _describe(model):
    image = model.info.image
    classes = model.classes or len(model.labels) or "?"
    what = model.info.task if image is None else \
        f"{image.size[0]}x{image.size[1]} {image.color}"
    return f"{model.path} ({what}, {classes} classes, {_show_engine(model)})"


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


def load_models(args):
    """Every --model, loaded and checked against the source: all image models, or
    all sensor models cutting the stream the same way."""
    if len(args.model) > 1 and (args.labels or args.output):
        raise UserError("--labels and --output adjust one model; with several --model, give "
                        "each its labels and scores output in its metadata (`edgeinfer convert`)")
    labels = read_labels(args.labels) if args.labels else None
    models = [load(path, backend=args.backend, threads=resolve_threads(args.threads),
                   labels=labels, output_name=args.output, device=args.device)
              for path in args.model]
    for model in models:
        if model.info.image is None and not args.sensor:
            raise UserError(f"{model.path} is a {model.info.task} model: it classifies sensor "
                            "windows, not images; give it a stream with --sensor FILE|-|"
                            "serial:...|udp:...")
        if args.sensor and model.info.image is not None:
            raise UserError(f"{model.path} classifies images; --sensor needs a sensor model")
    if args.sensor:
        first = models[0]
        for model in models[1:]:
            if _cut(model.info.sensor) != _cut(first.info.sensor):
                raise UserError(f"{model.path} cuts the stream into {_show_cut(model)} but "
                                f"{first.path} into {_show_cut(first)}: models side by side "
                                "on one sensor stream need the same window, hop and channels")
    return models


def _cut(sensor):
    return (int(sensor.window), int(sensor.hop), [c.strip().lower() for c in sensor.channels])


def _show_cut(model):
    sensor = model.info.sensor
    return (f"{sensor.window}-sample windows every {sensor.hop} samples of "
            f"{','.join(sensor.channels)}")


def run(args):
    show_warnings()
    _check_numbers(args)
    if not args.model:
        raise UserError("--model is required: the .onnx file to run (make one from a Keras or "
                        "PyTorch model with `edgeinfer convert`)")
    if args.sensor and (args.show or args.save_video):
        raise UserError("--show and --save-video draw on camera frames; a sensor run has none")
    # the source opens while the models load, unless it needs them (a sensor's window), is
    # not used (--ray) or would start its clock (--realtime)
    early = None if args.sensor or args.ray or args.realtime else \
        OpenInBackground(lambda: open_source(args))
    with early or nullcontext():
        models = load_models(args)
        try:
            classifiers = [
                Classifier(model, Postprocessor.for_model(model, args.top_k, args.threshold,
                                                          args.smoothing), name)
                for model, name in zip(models, distinct_names(args.model))]
        except ValueError as error:
            raise UserError(str(error)) from None
    if args.ray:
        from .run_ray import run_on_ray

        if len(models) > 1:
            raise UserError("--ray runs one model: give one --model")
        return run_on_ray(args, models[0], open_sinks)
    source = early.result() if early else open_source(args, models[0].info.sensor)
    try:
        sinks = open_sinks(args, source.fps)
    except BaseException:
        source.close()
        raise
    pipeline = Pipeline(source, classifiers, sinks, every=args.every,
                        max_frames=args.max_frames)
    if not args.quiet:
        described = " + ".join(_describe(model) for model in models)
        print(f"{PROG}: {described} on {source.description}", file=sys.stderr)
    try:
        with _StopOnSignals(pipeline):
            pipeline.run()
    finally:
        if getattr(args, "saved", None):
            _save_run_facts(args.saved, models, source, pipeline)
        _print_summary(pipeline, args)
    stats = pipeline.stats
    if stats.classified == 0 and pipeline.stop_reason is None:
        skipped = f", {stats.skipped} skipped (see the warnings above)" if stats.skipped else ""
        raise UserError(f"nothing was classified: {source.description} gave nothing the "
                        f"model could take{skipped}")
    return EXIT_CODES.get(pipeline.stop_reason, 0)


def _save_run_facts(folder, models, source, pipeline):
    """run.json in the --save folder: what ran where on what, and the summary."""
    facts = {"models": [{"path": model.path, **_engine(model)} for model in models],
             "source": source.description, "stopped": pipeline.stop_reason,
             "summary": pipeline.stats.as_dict()}
    text = json.dumps(facts, indent=2) + "\n"
    try:
        atomic_write(os.path.join(folder, "run.json"), lambda f: f.write(text.encode()))
    except OSError as error:  # the results are saved already; the facts are a bonus
        logging.getLogger("edgeinfer").warning(
            f"could not write {os.path.join(folder, 'run.json')} ({error.strerror})")


def _print_summary(pipeline, args):
    stopped = pipeline.stop_reason
    lines = pipeline.stats.summary().splitlines()
    head = f"{PROG}: " + (f"stopped ({stopped}) after " if stopped else "") + lines[0]
    written = [path for path in (args.json, args.csv, args.save_video) if path and path != "-"]
    tail = [f"  written: {', '.join(written)}"] if written else []
    if getattr(args, "saved", None):
        tail.append(f"  saved: {args.saved}")
    tail += [f"  {sink.report()}" for sink in pipeline.sinks if hasattr(sink, "report")]
    print("\n".join([head] + lines[1:] + tail), file=sys.stderr)
    sys.stderr.flush()
