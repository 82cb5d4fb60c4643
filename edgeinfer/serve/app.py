"""The routes: the HTTP API, the live page and its video, on Starlette.

    POST /api/predict   an image (raw body or multipart) -> every model's record
    GET  /api/latest    the live run's newest record
    GET  /api/stream    Server-Sent Events: each record as it is made, a `stats` event a second
    GET  /api/models    each model's name, backend and metadata
    GET  /healthz       up or not (never wants the token)
    GET  /metrics       Prometheus text
    GET  /video.mjpg    the live frames with their overlay, at most frames.MAX_FPS a second
    GET  /api/teach     the Teach panel's data folder, training and last result; with
    POST, DELETE /api/teach/samples, POST /api/teach/train  (a live image source only)
    GET  /              the live page (files of this package only, by fixed names)

Records are the JSON `run --json` writes (sinks.jsonl.json_record). Errors are
one line of JSON: {"error": "..."}."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import threading
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..sinks.jsonl import json_record
from .auth import LoopbackGuard, TokenAuth
from .frames import BOUNDARY, MAX_FPS, mjpeg_part
from .teach import TeachError
from .uploads import MAX_PIXELS, BadUpload, decode_image

MAX_BODY = 10_000_000
DECODING_AT_ONCE = 2         # posted images decoded and classified at once; the rest wait
STATS_SECONDS = 1.0          # how often a stream client gets a `stats` event
STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
PAGES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
         "/static/style.css": ("style.css", "text/css; charset=utf-8")}
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                           "object-src 'none'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache"}
RAW_TYPES = ("", "application/octet-stream")
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def error(status, message):
    return JSONResponse({"error": message}, status_code=status)


def create_app(parts, *, token=None, cors=(), max_body=MAX_BODY, max_pixels=MAX_PIXELS,
               names=()):
    """The ASGI app serving `parts` (a parts.Parts). token: every route but
    /healthz wants it (None: open); cors: origins allowed to call from a browser
    (none: same origin only); names: host names a request may address without a
    token besides loopback ones and the server's address (auth.own_names)."""
    pages = {path: (_read_static(name), media) for path, (name, media) in PAGES.items()}
    # each decoded image holds up to max_pixels * 3 bytes: a burst must not hold them all
    decoding = threading.BoundedSemaphore(DECODING_AT_ONCE)

    def decode_and_predict(data, top_k, filename, received):
        with decoding:
            return parts.predictor(decode_image(data, max_pixels), top_k, filename, received)

    async def page(request):
        body, media = pages[request.url.path]
        return Response(body, media_type=media, headers=PAGE_HEADERS)

    async def predict(request):
        try:
            top_k = _top_k(request.query_params.get("top_k"))
            if not parts.predictor.takes_images:
                raise BadUpload(400, "these models classify sensor windows, not images: "
                                     "POST /api/predict takes images")
            data, filename = await _image_body(request, max_body)
            received = (time.monotonic(), time.time())
            result = await run_in_threadpool(decode_and_predict, data, top_k, filename,
                                             received)
        except BadUpload as refused:
            return error(refused.status, str(refused))
        parts.metrics.observe(result, "api")
        return Response(json_record(result), media_type="application/json")

    async def latest(request):
        if parts.hub.latest is None:
            why = "the source has given no result yet" if parts.live else \
                "this server has no source (start it with --camera, --video ...); POST an " \
                "image to /api/predict"
            return error(404, f"no result yet: {why}")
        return Response(parts.hub.latest, media_type="application/json")

    def stats():
        status = parts.live.status() if parts.live else {"state": "no source"}
        return {**status, "stream_clients_dropped": parts.hub.dropped_clients}

    async def stream(request):
        client = parts.hub.subscribe()

        async def events():
            try:
                yield f"event: stats\ndata: {json.dumps(stats())}\n\n"
                sent_stats = time.monotonic()
                while True:
                    record = await client.next(STATS_SECONDS)
                    if record is None:   # dropped for falling behind, or the server stops
                        break
                    if record:
                        yield f"data: {record}\n\n"
                    if time.monotonic() - sent_stats >= STATS_SECONDS:
                        yield f"event: stats\ndata: {json.dumps(stats())}\n\n"
                        sent_stats = time.monotonic()
            finally:
                parts.hub.unsubscribe(client)
        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers=STREAM_HEADERS)

    async def models(request):
        return JSONResponse([_describe(model, name) for model, name in
                             zip(parts.predictor.models, parts.predictor.names)])

    async def healthz(request):
        return JSONResponse({"status": "ok", "models": len(parts.predictor.models),
                             "live": parts.live.status() if parts.live else None})

    async def metrics(request):
        return Response(parts.metrics.render(parts.live and parts.live.status(), parts.hub),
                        media_type="text/plain; version=0.0.4; charset=utf-8")

    async def video(request):
        if parts.live is None or not parts.predictor.takes_images:
            return error(404, "no live video: this server has no camera or video source")

        async def frames():
            sent = 0
            while not parts.closing:
                if parts.feed.sequence != sent:
                    sequence, jpeg = await run_in_threadpool(parts.feed.jpeg)
                    if jpeg is not None and sequence != sent:
                        sent = sequence
                        yield mjpeg_part(jpeg)
                await asyncio.sleep(1 / MAX_FPS)
        return StreamingResponse(frames(), headers=STREAM_HEADERS,
                                 media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}")

    def teacher():
        if parts.teacher is None:
            raise TeachError(404, "teaching records from the live video: this server has no "
                                  "camera or video source (start it with --camera or --video)")
        return parts.teacher

    async def teach(request):
        try:
            return JSONResponse(teacher().status())
        except TeachError as refused:
            return error(refused.status, str(refused))

    async def samples(request):
        try:
            label = request.query_params.get("label", "")
            if request.method == "DELETE":
                removed = await run_in_threadpool(teacher().forget, label)
                return JSONResponse({"label": label, "removed": removed,
                                     "labels": teacher().counts()})
            count = request.query_params.get("count", "1")
            if not is_whole_number(count):
                raise TeachError(400, f"count must be a whole number, got {count!r}")
            saved = await run_in_threadpool(teacher().record, label, int(count))
            return JSONResponse({"label": label, "saved": saved, "labels": teacher().counts()})
        except TeachError as refused:
            return error(refused.status, str(refused))

    async def train(request):
        try:
            started = teacher().train(request.query_params.get("head", "softmax"))
            return JSONResponse({"training": started}, status_code=202)
        except TeachError as refused:
            return error(refused.status, str(refused))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        parts.hub.attach(asyncio.get_running_loop())
        yield
        parts.close()

    routes = [Route(path, page) for path in PAGES] + [
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/latest", latest), Route("/api/stream", stream),
        Route("/api/models", models), Route("/healthz", healthz), Route("/metrics", metrics),
        Route("/video.mjpg", video), Route("/api/teach", teach),
        Route("/api/teach/samples", samples, methods=["POST", "DELETE"]),
        Route("/api/teach/train", train, methods=["POST"])]
    middleware = [Middleware(CountRequests, metrics=parts.metrics,
                             known={route.path for route in routes})]
    if cors:
        middleware.insert(0, Middleware(CORSMiddleware, allow_origins=list(cors),
                                        allow_methods=["GET", "POST", "DELETE"],
                                        allow_headers=["Authorization", "Content-Type"]))
    if token:
        middleware.append(Middleware(TokenAuth, token=token))
    else:
        middleware.append(Middleware(LoopbackGuard, cors=cors, names=names))
    return OneLineErrors(Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                                   exception_handlers={HTTPException: _http_error,
                                                       Exception: _server_error}))


class OneLineErrors:
    """The app, with an unexpected error in a route logged as one line: Starlette
    answers it (a one-line JSON 500, _server_error) and then raises it again,
    which uvicorn would log with its whole traceback."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        try:
            await self.app(scope, receive, send)
        except Exception as failed:
            if scope["type"] == "lifespan":
                raise
            logging.getLogger("uvicorn.error").error(
                "%s %s: %s", scope.get("method", ""), scope.get("path", ""),
                _one_line(failed))


class CountRequests:
    """Counts every response by route and status for /metrics (paths no route
    has are counted as "other", so a scan cannot grow the table)."""

    def __init__(self, app, metrics, known):
        self.app, self.metrics, self.known = app, metrics, known

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        route = scope["path"] if scope["path"] in self.known else "other"

        async def counting(message):
            if message["type"] == "http.response.start":
                self.metrics.count_request(route, message["status"])
            await send(message)
        await self.app(scope, receive, counting)


async def _http_error(request, exc):
    return error(exc.status_code, exc.detail)


def _one_line(exc):
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}{': ' + first if first else ''}"


async def _server_error(request, exc):
    return error(500, f"internal error ({_one_line(exc)})")


def is_whole_number(text):
    # str.isdigit() alone takes '²' and other digits int() refuses
    return text.isascii() and text.isdigit()


def _read_static(name):
    with open(os.path.join(STATIC, name), "rb") as f:
        return f.read()


def _top_k(text):
    if text is None:
        return None
    if not is_whole_number(text) or int(text) < 1:
        raise BadUpload(400, f"top_k must be a whole number of at least 1, got {text!r}")
    return int(text)


async def _image_body(request, limit):
    """(the image's bytes, the uploaded file's name or None) of a raw or multipart body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data" and not media.startswith("image/") and \
            media not in RAW_TYPES:
        raise BadUpload(415, f"Content-Type {media} is not an image: send the image's bytes "
                             "with Content-Type image/jpeg (or image/png ...), or as "
                             "multipart/form-data (curl -F image=@photo.jpg)")
    body = await _read_body(request, limit)
    if media != "multipart/form-data":
        return body, None
    return await _multipart_file(request, body, limit)


async def _read_body(request, limit):
    too_large = BadUpload(413, f"the body is larger than this server's limit of {limit} bytes "
                               "(--max-body): send a smaller image")
    length = request.headers.get("content-length", "")
    if is_whole_number(length) and int(length) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _multipart_file(request, body, limit):
    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=16,
                                                         max_part_size=limit)
    except HTTPException as refused:
        raise BadUpload(400, f"the multipart body does not parse: {refused.detail}") from None
    try:
        upload = next((value for value in form.values() if hasattr(value, "read")), None)
        if upload is None:
            raise BadUpload(400, "the multipart body holds no file: send the image as a file "
                                 "field (curl -F image=@photo.jpg)")
        data = await upload.read()
        return data, os.path.basename(upload.filename or "") or None
    finally:
        await form.close()


def _describe(model, name):
    """A model for GET /api/models: what it is and what its file says about itself."""
    return {"name": name, "file": os.path.basename(model.path), "backend": model.backend.name,
            "task": model.info.task, "classes": model.classes, "labels": list(model.labels),
            "metadata": dataclasses.asdict(model.info)}
