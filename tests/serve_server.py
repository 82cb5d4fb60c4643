"""A real edgeinfer server for the serve tests and benchmark: the app on
uvicorn, listening on a free loopback port, run in a thread of this process
(what `edgeinfer serve` runs in its main thread), with the models and
optionally a live source put together as the command does."""
import contextlib
import socket
import threading
import time

import edgeinfer
from edgeinfer.run.classifier import distinct_names
from edgeinfer.serve.app import create_app
from edgeinfer.serve.parts import assemble
from edgeinfer.serve.server import Server

START_SECONDS = 10.0


def parts_for(model_paths, source=None, top_k=5, **options):
    models = [edgeinfer.load(path, threads=1) for path in model_paths]
    return assemble(models, distinct_names(model_paths), top_k, source, **options)


@contextlib.contextmanager
def serving(parts, send_buffer=None, **app_options):
    """Yields the server's base URL while it runs; the live run (if any) starts
    with it. Stops both on the way out. send_buffer: the kernel's send buffer of
    each connection in bytes (default: Linux grows it up to 4 MB), to reach a
    slow client's limits in a short test."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if send_buffer:
        # the connections it accepts inherit it
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = Server(create_app(parts, **app_options), parts)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    if parts.live is not None:
        parts.live.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(START_SECONDS)
        if parts.live is not None:
            parts.live.stop()
        sock.close()


def wait_for(condition, seconds=10.0, what="the condition"):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
