"""`edgeinfer serve`: the models behind an HTTP API and a live page; with a
source, the same pipeline as `run` on a thread of its own, its results on the
page, the stream and /api/latest. Safe by default: loopback only unless a
token (or --no-auth) is given; docs/serve.md says more.

Starlette and uvicorn (edgeinfer[serve]) are imported only once this command
runs, so every other command starts without them."""
from __future__ import annotations

import os
import re
import signal
import socket
import sys

from ..backends import BACKENDS
from ..errors import UserError
from ..model import load
from ..run.classifier import distinct_names
from .mqtt_options import add_mqtt, open_mqtt
from .options import add_device, add_model, add_threads, add_top_k, models, resolve_threads
from .run import (EXIT_CODES, add_source_arguments, load_models, open_source,
                  show_warnings)

PROG = "edgeinfer serve"
DEFAULT_PORT = 8080
SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]?i?b?)", re.IGNORECASE)
UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
         "gb": 10**9, "ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30,
         "gib": 2**30}


def byte_size(text):
    """argparse type: 10MB, 512k, 2MiB or a number of bytes."""
    import argparse

    match = SIZE.fullmatch(text.strip())
    if not match or match.group(2).lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"takes a size such as 10MB, 512kB or 2MiB, got {text!r}")
    size = int(float(match.group(1)) * UNITS[match.group(2).lower()])
    if size < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte, got {text!r}")
    return size


def add_arguments(parser):
    add_model(parser, many=True)
    add_source_arguments(parser, "source (one of; none: the API answers posted images only)")
    server = parser.add_argument_group("server")
    server.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1, this machine only; any "
                             "other needs --token or --no-auth)")
    server.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0: any free port)")
    server.add_argument("--token", default=os.environ.get("EDGEINFER_TOKEN"), metavar="T",
                        help="clients must send `Authorization: Bearer T` (every route but "
                             "/healthz; the page: open /?token=T once); default: the "
                             "EDGEINFER_TOKEN environment variable")
    server.add_argument("--no-auth", action="store_true",
                        help="serve a non-loopback --host without a token (anyone who can reach "
                             "it may use it)")
    server.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="without --token, also answer requests addressed to NAME (this "
                             "machine's own names, e.g. pi.local, are answered on a "
                             "non-loopback --host already); give it again for more")
    server.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                        help="let pages from ORIGIN (e.g. https://dash.local) call the API; "
                             "give it again for more (default: none)")
    server.add_argument("--max-body", type=byte_size, default="10MB", metavar="SIZE",
                        help="largest request body taken (default 10MB)")
    server.add_argument("--teach-dir", default="teach", metavar="DIR",
                        help="where the page's Teach panel saves samples and the models it "
                             "trains (default: ./teach, made on first use; a live camera or "
                             "video only)")
    results = parser.add_argument_group("results")
    add_top_k(results)
    results.add_argument("--smoothing", type=int, default=1, metavar="N",
                         help="average the live source's scores over its last N frames")
    engine = parser.add_argument_group("engine")
    engine.add_argument("--backend", default="auto",
                        help=" | ".join(["auto", *BACKENDS]) + " (auto: the best installed)")
    add_device(engine)
    add_threads(engine)
    add_mqtt(parser)
    parser.set_defaults(labels=None, output=None)


def source_given(args):
    return any(getattr(args, name) is not None for name in ("camera", "video", "url", "image",
                                                            "sensor"))


def _check(args):
    if args.top_k < 1:
        raise UserError(f"--top-k must be at least 1, got {args.top_k}")
    if args.smoothing < 1:
        raise UserError(f"--smoothing must be at least 1, got {args.smoothing}")
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port is 0..65535, got {args.port}")
    if args.mqtt and not source_given(args):
        raise UserError("--mqtt publishes the results of a live source: give one (--camera, "
                        "--video, --url, --image or --sensor); posted images are answered "
                        "over HTTP only")
    if args.realtime and not args.video:
        raise UserError("--realtime paces a video file (--video); cameras and streams are "
                        "always live")


def _server_parts():
    try:
        from ..serve.app import create_app
        from ..serve.parts import assemble
        from ..serve.server import Server
    except ImportError as missing:
        raise UserError(f"edgeinfer serve needs {missing.name or 'its web server'}: "
                        "pip install '.[serve]' in the edgeinfer checkout") from None
    return Server, assemble, create_app


def _listen(host, port):
    """The listening socket, opened here so a taken port is one line, not a traceback."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio sets TCP_NODELAY only on sockets that say
    # they are TCP, and without it each keep-alive response waits ~40 ms for an ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as failed:
        sock.close()
        taken = " (is another server running there? pick another --port)" \
            if failed.errno == 98 else ""
        raise UserError(f"cannot listen on {host}:{port}: {failed.strerror or failed}{taken}") \
            from None
    sock.set_inheritable(True)
    return sock


class _CaughtSignals:
    """uvicorn stops on SIGINT/SIGTERM and then raises the signal again for the
    handler it found: these record it, so the live run's files close, the summary
    prints and the exit status says which signal it was (as `run`'s does)."""

    def __init__(self):
        self.caught = None
        self.previous = {}

    def __enter__(self):
        for name in EXIT_CODES:
            signum = getattr(signal, name)
            self.previous[signum] = signal.signal(signum, self._record)
        return self

    def _record(self, signum, _frame):
        self.caught = signal.Signals(signum).name

    def __exit__(self, *exc):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        return False


def run(args):
    from ..serve.auth import check_bind, own_names

    show_warnings(PROG)
    _check(args)
    check_bind(args.host, args.token, args.no_auth)
    Server, assemble, create_app = _server_parts()
    args.model = models(args, many=True)
    args.threads = resolve_threads(args.threads)
    sock = _listen(args.host, args.port)   # a taken port fails before any model loads
    try:
        loaded = load_models(args)
        mqtt = open_mqtt(args)  # connects: a bad URL, no broker or a refused login stop here
        try:
            source = open_source(args, loaded[0].info.sensor) if source_given(args) else None
        except BaseException:
            if mqtt:  # its status goes offline cleanly; once running, the pipeline closes it
                mqtt.close()
            raise
        parts = assemble(loaded, distinct_names(args.model), args.top_k, source,
                         args.smoothing, on_end=_say_source_ended,
                         sinks=[mqtt] if mqtt else [], teach_dir=args.teach_dir,
                         load=lambda path: load(path, backend=args.backend,
                                                threads=args.threads, device=args.device))
        app = create_app(parts, token=args.token, cors=args.cors, max_body=args.max_body,
                         names=own_names(args.host, args.allow_host))
        print(f"{PROG}: {_address(sock)} serving {', '.join(parts.predictor.names)}" +
              (f" on {parts.live.description}" if parts.live else " (no source: the API only)"),
              file=sys.stderr, flush=True)
        with _CaughtSignals() as signals:
            if parts.live:
                parts.live.start()
            try:
                Server(app, parts).run(sockets=[sock])
            finally:
                if parts.live:
                    parts.live.stop()
                    _print_summary(parts.live)
    finally:
        sock.close()
    return EXIT_CODES.get(signals.caught, 0)


def _address(sock):
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def _say_source_ended(live):
    if live.pipeline.stop_reason == "server stopped":
        return
    stats = live.pipeline.stats
    how = f"stopped ({live.error})" if live.error else "ended"
    print(f"{PROG}: {live.description} {how} after {stats.frames} frames; still serving the API",
          file=sys.stderr, flush=True)


def _print_summary(live):
    lines = live.pipeline.stats.summary().splitlines()
    lines += [f"  {sink.report()}" for sink in live.pipeline.sinks if hasattr(sink, "report")]
    print("\n".join([f"{PROG}: live run: " + lines[0]] + lines[1:]), file=sys.stderr,
          flush=True)
