"""POST /api/predict against `edgeinfer serve` running as its own process on
loopback, next to calling model.predict directly in this one:

- one client, request after request: the server's time per image against the
  bare predict on a decoded frame, measured alternately in the same run (the
  target: the server adds at most 15 %, HTTP and the JPEG decode included);
- 8 clients at once, 200 requests each: requests/s, p50/p99 latency, 0 errors;
- the server's resident memory over 2 000 requests: it grows by less than 10 MB.

The model is the EfficientNet-Lite0 demo model when tools/make_demo_model.py
has built it (models/efficientnet-lite0.onnx), else a MobileNet v1-shaped
network of similar cost with seeded weights. With --benchmark-disable (the
smoke run in `make test`) the counts are cut so it stays quick."""
import os
import signal
import statistics
import threading
import time

import httpx
import numpy as np
import pytest

import edgeinfer
from edgeinfer.media import SAMPLE_IMAGE, read_image
from tools.serve_process import rss_bytes, start_serving

CLIENTS, REQUESTS = 8, 200
MEMORY_REQUESTS, MEMORY_WARMUP = 2000, 200
BLOCKS = (4, 10)      # one client: 4 x (10 server requests, then 10 direct predicts)
SMOKE = {"requests": 5, "memory": 60, "warmup": 20, "pairs": 5}


@pytest.fixture(scope="module")
def server(model_path):
    process, url, _ = start_serving("-m", model_path)
    yield process, url
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)


@pytest.fixture(scope="module")
def photo():
    with open(SAMPLE_IMAGE, "rb") as f:
        return f.read()


def post(client, photo):
    started = time.perf_counter()
    response = client.post("/api/predict", content=photo,
                           headers={"Content-Type": "image/jpeg"})
    seconds = time.perf_counter() - started
    return response.status_code == 200 and bool(response.json().get("label")), seconds


def bench_serve_one_client(benchmark, server, model_path, photo):
    """A request's round trip, one client, against the same image through
    model.predict here: blocks of each in turn (onnxruntime's threads spin a
    moment after each run, so finer interleaving would slow whichever runs
    next), so both see the same machine load."""
    _, url = server
    blocks, size = (2, SMOKE["pairs"]) if benchmark.disabled else BLOCKS
    model = edgeinfer.load(model_path)
    frame = read_image(SAMPLE_IMAGE)
    served, direct = [], []
    with httpx.Client(base_url=url, timeout=60) as client:
        post(client, photo)
        model.predict(frame)
        for _ in range(blocks):
            for _ in range(size):
                ok, seconds = post(client, photo)
                assert ok
                served.append(seconds)
            for _ in range(size):
                started = time.perf_counter()
                model.predict(frame)
                direct.append(time.perf_counter() - started)
        benchmark.group = "serve: POST /api/predict"
        benchmark.extra_info["model"] = os.path.basename(model_path)
        benchmark(post, client, photo)
    served_ms, direct_ms = statistics.median(served) * 1e3, statistics.median(direct) * 1e3
    benchmark.extra_info.update({
        "served_ms_p50": round(served_ms, 3), "predict_ms_p50": round(direct_ms, 3),
        "overhead": round(served_ms / direct_ms - 1, 4), "target_overhead": 0.15})
    print(f"\none client: served {served_ms:.2f} ms, model.predict {direct_ms:.2f} ms: "
          f"overhead {100 * (served_ms / direct_ms - 1):+.1f} % (target <= 15 %)")


def load(url, photo, clients, requests):
    """Every client's request latencies (seconds) and how many failed."""
    latencies, errors = [], []

    def client():
        with httpx.Client(base_url=url, timeout=120) as http:
            for _ in range(requests):
                try:
                    ok, seconds = post(http, photo)
                except httpx.HTTPError as error:
                    ok, seconds = False, 0.0
                    errors.append(repr(error))
                if ok:
                    latencies.append(seconds)
                elif not errors or errors[-1].startswith("http"):
                    errors.append("a request failed")
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def bench_serve_eight_clients(benchmark, server, photo):
    """8 clients posting at once, REQUESTS each: throughput and latency under load."""
    _, url = server
    requests = SMOKE["requests"] if benchmark.disabled else REQUESTS
    results = {}

    def run():
        started = time.perf_counter()
        results["latencies"], results["errors"] = load(url, photo, CLIENTS, requests)
        results["seconds"] = time.perf_counter() - started

    benchmark.group = "serve: 8 clients"
    benchmark.pedantic(run, rounds=1, iterations=1)
    latencies = np.array(results["latencies"]) * 1e3
    assert results["errors"] == [] and len(latencies) == CLIENTS * requests
    rate = len(latencies) / results["seconds"]
    p50, p99 = np.percentile(latencies, [50, 99])
    benchmark.extra_info.update({"clients": CLIENTS, "requests": len(latencies), "errors": 0,
                                 "requests_per_s": round(rate, 2), "p50_ms": round(p50, 2),
                                 "p99_ms": round(p99, 2)})
    print(f"\n{CLIENTS} clients x {requests}: {rate:.1f} requests/s, p50 {p50:.1f} ms, "
          f"p99 {p99:.1f} ms, 0 errors")


def bench_serve_memory(benchmark, server, photo):
    """The server's resident memory after a warm-up and after 2 000 more requests."""
    process, url = server
    count = SMOKE["memory"] if benchmark.disabled else MEMORY_REQUESTS
    warmup = SMOKE["warmup"] if benchmark.disabled else MEMORY_WARMUP
    load(url, photo, CLIENTS, warmup // CLIENTS)
    before = rss_bytes(process.pid)
    results = {}

    def run():
        results["latencies"], results["errors"] = load(url, photo, CLIENTS, count // CLIENTS)

    benchmark.group = "serve: memory"
    benchmark.pedantic(run, rounds=1, iterations=1)
    growth = rss_bytes(process.pid) - before
    assert results["errors"] == []
    benchmark.extra_info.update({"requests": len(results["latencies"]),
                                 "rss_before_mb": round(before / 2**20, 1),
                                 "rss_growth_mb": round(growth / 2**20, 2)})
    print(f"\nserver RSS {before / 2**20:.1f} MB, +{growth / 2**20:.2f} MB over "
          f"{len(results['latencies'])} requests (target < 10 MB)")
    assert growth < 10 * 2**20
