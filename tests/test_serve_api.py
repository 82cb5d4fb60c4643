"""`edgeinfer serve`'s HTTP API on a real uvicorn server on a loopback port,
driven with httpx: every route, every error code, the token on and off, CORS
on and off, concurrent clients while a live run shares the models."""
import json
import os
import struct
import threading
import zlib

import cv2
import httpx
import numpy as np
import pytest

from edgeinfer.cli import main
from edgeinfer.media import DATA_DIR
from edgeinfer.sources import open_video
from serve_server import parts_for, serving, wait_for
from tools import sample_clip, tiny_models
from tools.serve_process import rss_bytes

CAT = os.path.join(DATA_DIR, "chelsea.jpg")
COFFEE = os.path.join(DATA_DIR, "coffee.jpg")
TOKEN = "s3cret-token_0123"
MAX_BODY = 200_000   # both bundled photos fit; the tests' large bodies do not
RENAMED = {"cat": "kitty", "coffee": "mug"}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def png(width, height, rows=1):
    """A PNG declaring width x height RGB pixels whose data holds `rows` black rows:
    a few kilobytes on the wire, width * height * 3 bytes once decoded."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                      zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\0" * ((1 + 3 * width) * rows), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + \
        chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def personal(media):
    """A second photo model, seeded differently, calling cat "kitty" and coffee "mug"."""
    views = {RENAMED[label]: [f for f, _ in sample_clip.clip_frames((160, 120), 8, [photo])]
             for label, photo in (("cat", "chelsea"), ("coffee", "coffee"))}
    return tiny_models.save(tiny_models.photo_classifier(views, seed=7),
                            media["root"] / "personal.onnx")


@pytest.fixture(scope="module")
def api(media):
    """One model, no source, a small body limit."""
    with serving(parts_for([media["model"]]), max_body=MAX_BODY) as url:
        with httpx.Client(base_url=url, timeout=10) as client:
            yield client


@pytest.fixture(scope="module")
def live(media, personal):
    """Two models side by side on the sample clip, which has been played to its end."""
    parts = parts_for([media["model"], personal], open_video(media["clip"]), top_k=2)
    with serving(parts) as url:
        wait_for(lambda: not parts.live.running, what="the clip to end")
        with httpx.Client(base_url=url, timeout=10) as client:
            yield client, parts


@pytest.fixture(scope="module")
def guarded(media):
    with serving(parts_for([media["model"]]), token=TOKEN) as url:
        yield url


def assert_error(response, status, *words):
    """A refusal: the status, and one line of JSON naming the problem."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    message = response.json()["error"]
    assert "\n" not in message and all(w.lower() in message.lower() for w in words), message


# -- POST /api/predict -----------------------------------------------------------------------

def test_predict_gives_the_record_run_json_writes(live, media, personal, tmp_path, capsys):
    client, _ = live
    out = tmp_path / "run.jsonl"
    assert main(["run", "-m", media["model"], "-m", personal, "--image", CAT, "--top-k", "2",
                 "--json", str(out), "--quiet"]) == 0
    capsys.readouterr()
    expected = json.loads(out.read_text())
    response = client.post("/api/predict", content=read(CAT),
                           headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200 and response.headers["content-type"] == \
        "application/json"
    record = response.json()
    # a file run's item waited in the read-ahead queue; a posted image is answered at
    # once, so it is timed like a live frame: wait (its decoding) and end to end
    assert set(record) == set(expected) - {"file", "queued_ms"}
    assert [m["label"] for m in record["models"]] == ["cat", "kitty"]
    for served, ran in zip(record["models"], expected["models"]):
        assert set(served) == set(ran) and served["model"] == ran["model"]
        assert [p["label"] for p in served["top"]] == [p["label"] for p in ran["top"]]
        assert [p["score"] for p in served["top"]] == pytest.approx(
            [p["score"] for p in ran["top"]], abs=1e-5)
    assert set(record["latency_ms"]) == set(expected["latency_ms"]) | {"wait", "end_to_end"}


def test_predict_takes_a_multipart_file_and_names_it(api):
    response = api.post("/api/predict", files={"image": ("coffee.jpg", read(COFFEE),
                                                         "image/jpeg")})
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["label"], record["file"]) == ("coffee", "coffee.jpg")


def test_predict_without_a_content_type_reads_the_bytes(api):
    request = api.build_request("POST", "/api/predict", content=read(CAT))
    assert "content-type" not in request.headers
    assert api.send(request).json()["label"] == "cat"


def test_top_k_query_sets_the_predictions_per_model(api):
    one = api.post("/api/predict?top_k=1", content=read(CAT),
                   headers={"Content-Type": "image/jpeg"}).json()
    assert [p["label"] for p in one["top"]] == ["cat"]
    # more than the model has classes: every class
    many = api.post("/api/predict?top_k=50", content=read(CAT),
                    headers={"Content-Type": "image/jpeg"}).json()
    assert len(many["top"]) == 2


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_top_k_is_400(api, value):
    assert_error(api.post(f"/api/predict?top_k={value}", content=read(CAT),
                          headers={"Content-Type": "image/jpeg"}), 400, "top_k")


@pytest.mark.parametrize("body,words", [
    (b"hello, this is text", ["not a JPEG, PNG, BMP or WebP"]),
    (b"", ["not a JPEG"]),
    (read(CAT)[:12], ["cut short or damaged"]),
    (read(CAT)[:2000], ["damaged", "cannot decode"]),
])
def test_a_body_that_is_not_an_image_is_400(api, body, words):
    assert_error(api.post("/api/predict", content=body,
                          headers={"Content-Type": "image/jpeg"}), 400, *words)


def test_a_multipart_body_without_a_file_is_400(api):
    assert_error(api.post("/api/predict", data={"note": "no file"},
                          files={"other": ("", b"", "text/plain")}), 400)
    assert_error(api.post("/api/predict", content=b"--x\r\n", headers={
        "Content-Type": "multipart/form-data; boundary=x"}), 400)


@pytest.mark.parametrize("media_type", ["application/json", "text/plain",
                                        "application/x-www-form-urlencoded"])
def test_other_content_types_are_415(api, media_type):
    assert_error(api.post("/api/predict", content=read(CAT),
                          headers={"Content-Type": media_type}), 415, media_type, "image/jpeg")


def test_a_body_over_the_limit_is_413(api):
    big = read(CAT) + bytes(MAX_BODY)
    assert_error(api.post("/api/predict", content=big, headers={"Content-Type": "image/jpeg"}),
                 413, str(MAX_BODY), "--max-body")
    # sent in chunks, without a length up front: counted as it arrives
    chunks = iter([big[i:i + 65536] for i in range(0, len(big), 65536)])
    assert_error(api.post("/api/predict", content=chunks,
                          headers={"Content-Type": "image/jpeg"}), 413)
    assert_error(api.post("/api/predict", files={"image": ("big.jpg", big, "image/jpeg")}), 413)
    # the server is fine afterwards
    assert api.post("/api/predict", content=read(CAT)).json()["label"] == "cat"


def test_a_decompression_bomb_png_is_refused_before_decoding(api):
    # 30000 x 30000 is under OpenCV's own limit (2**30 pixels): decoded, 2.7 GB
    bomb = png(30_000, 30_000, rows=64)
    assert len(bomb) < 20_000
    before = rss_bytes(os.getpid())
    assert_error(api.post("/api/predict", content=bomb, headers={"Content-Type": "image/png"}),
                 400, "30000x30000", "megapixels")
    assert rss_bytes(os.getpid()) - before < 100 * 2**20


def test_a_posted_image_counts_in_the_metrics(api):
    before = api.get("/metrics").text
    api.post("/api/predict", content=read(CAT))
    after = api.get("/metrics").text

    def count(text):
        line = 'edgeinfer_stage_seconds_count{origin="api",stage="end_to_end"}'
        return next((int(l.split()[-1]) for l in text.splitlines() if l.startswith(line)), 0)
    assert count(after) == count(before) + 1
    assert 'edgeinfer_requests_total{route="/api/predict",status="200"}' in after
    assert 'edgeinfer_model_seconds_bucket{model="photo",stage="inference",le="+Inf"}' in after


# -- the live run's routes -------------------------------------------------------------------

def test_latest_is_the_clip_s_last_frame_with_every_model(live, media):
    client, _ = live
    record = client.get("/api/latest").json()
    assert record["frame"] == len(media["clip_labels"]) - 1
    truth = media["clip_labels"][-1]
    assert [(m["model"], m["label"]) for m in record["models"]] == [
        ("photo", truth), ("personal", RENAMED[truth])]


def test_models_lists_each_model_s_metadata(live):
    client, _ = live
    models = client.get("/api/models").json()
    assert [m["name"] for m in models] == ["photo", "personal"]
    assert models[1]["labels"] == ["kitty", "mug"]
    assert models[0]["metadata"]["image"]["size"] == [64, 64]
    assert models[0]["backend"] in ("onnxruntime", "native")


def test_healthz_and_metrics_show_the_live_run(live, media):
    client, _ = live
    frames = len(media["clip_labels"])
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["models"] == 2
    assert health["live"]["state"] == "finished" and health["live"]["frames"] == frames
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = metrics.text.splitlines()
    assert f"edgeinfer_source_frames_total {frames}" in lines
    assert "edgeinfer_source_dropped_total 0" in lines
    assert f'edgeinfer_stage_seconds_count{{origin="live",stage="inference"}} {frames}' in lines
    # per model: the clip's frames, and any image posted to this server
    personal = next(line for line in lines if line.startswith(
        'edgeinfer_model_seconds_count{model="personal",stage="inference"}'))
    assert int(personal.split()[-1]) >= frames
    assert "# TYPE edgeinfer_stage_seconds histogram" in lines


def test_stream_starts_with_the_run_s_stats(live, media):
    client, _ = live
    with client.stream("GET", "/api/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "event: stats"
        stats = json.loads(next(lines)[len("data: "):])
    assert stats["frames"] == len(media["clip_labels"]) and stats["stream_clients_dropped"] == 0


def test_video_mjpg_sends_the_newest_frame_with_its_overlay(live, media):
    client, _ = live
    with client.stream("GET", "/video.mjpg") as response:
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        data = b""
        for chunk in response.iter_bytes():
            data += chunk
            if data.count(b"\r\n\r\n") and len(data) > 200 and data.endswith(b"\xff\xd9\r\n"):
                break
    head, _, jpeg = data.partition(b"\r\n\r\n")
    assert b"Content-Type: image/jpeg" in head
    frame = cv2.imdecode(np.frombuffer(jpeg[:-2], np.uint8), cv2.IMREAD_COLOR)
    assert frame.shape == (120, 160, 3)
    last = list(sample_clip.clip_frames((160, 120), len(media["clip_labels"]) // 2))[-1][0]
    # the overlay's black box behind the labels, top left, where the clip is bright
    assert frame[6:12, 6:40].mean() < 40 < last[6:12, 6:40].mean()


def test_without_a_source_latest_and_video_say_why(api):
    assert_error(api.get("/api/latest"), 404, "no source", "/api/predict")
    assert_error(api.get("/video.mjpg"), 404, "no camera or video")
    assert api.get("/healthz").json()["live"] is None


def test_concurrent_clients_while_the_live_run_shares_the_models(media):
    parts = parts_for([media["model"]], open_video(media["clip"], realtime=True))
    errors, labels = [], []

    def client(url, photo, truth):
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(10):
                response = http.post("/api/predict", content=read(photo))
                if response.status_code != 200:
                    errors.append(response.text)
                labels.append(response.json().get("label") == truth)

    with serving(parts) as url:
        threads = [threading.Thread(target=client, args=(url, photo, truth)) for photo, truth in
                   [(CAT, "cat"), (COFFEE, "coffee")] * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_for(lambda: not parts.live.running, what="the clip to end")
        latest = httpx.get(url + "/api/latest").json()
    assert errors == [] and len(labels) == 80 and all(labels)
    assert latest["label"] == media["clip_labels"][latest["frame"]]


# -- the page, and what is not served ----------------------------------------------------------

def test_page_and_its_files_come_from_the_package(api):
    page = api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/app.js" in page.text and "default-src 'self'" in \
        page.headers["content-security-policy"]
    assert "EventSource" in api.get("/static/app.js").text
    assert api.get("/static/style.css").headers["content-type"].startswith("text/css")
    for path in ["/static/index.html", "/static/../app.py", "/static/%2e%2e/app.py",
                 "/static/", "/data/chelsea.jpg", "/etc/passwd", "//etc/passwd"]:
        assert_error(api.get(path), 404)


def test_a_wrong_method_is_405(api):
    assert_error(api.get("/api/predict"), 405)
    assert_error(api.post("/api/latest"), 405)


# -- the token and CORS ----------------------------------------------------------------------

def test_with_a_token_every_route_but_healthz_wants_it(guarded):
    with httpx.Client(base_url=guarded, timeout=10) as client:
        for path in ["/", "/api/latest", "/api/models", "/metrics", "/video.mjpg",
                     "/static/app.js", "/api/stream", "/nothing"]:
            refused = client.get(path)
            assert_error(refused, 401, "Bearer")
            assert refused.headers["www-authenticate"] == "Bearer"
        assert_error(client.post("/api/predict", content=read(CAT)), 401)
        assert_error(client.get("/api/models", headers={"Authorization": "Bearer wrong"}), 401)
        assert_error(client.get("/api/models", headers={"Authorization": f"Basic {TOKEN}"}),
                     401)
        assert client.get("/healthz").status_code == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/api/models", headers=bearer).status_code == 200
        assert client.post("/api/predict", content=read(CAT),
                           headers=bearer).json()["label"] == "cat"


def test_the_page_s_token_in_the_address_becomes_a_same_site_cookie(guarded):
    with httpx.Client(base_url=guarded) as browser:
        assert_error(browser.get("/?token=wrong"), 401)
        page = browser.get(f"/?token={TOKEN}")
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/api/models").status_code == 200   # the cookie alone
    assert_error(httpx.get(guarded + "/api/models", cookies={"edgeinfer_token": "wrong"}), 401)


def test_no_cors_unless_asked(api, media):
    preflight = {"Origin": "https://dash.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in api.get(
        "/healthz", headers={"Origin": "https://dash.example"}).headers
    assert "access-control-allow-origin" not in api.options("/api/predict",
                                                            headers=preflight).headers
    with serving(parts_for([media["model"]]), cors=["https://dash.example"],
                 token=TOKEN) as url:
        allowed = httpx.options(url + "/api/predict", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
        other = httpx.options(url + "/api/predict", headers={
            **preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        answer = httpx.get(url + "/api/models", headers={
            "Origin": "https://dash.example", "Authorization": f"Bearer {TOKEN}"})
        assert answer.headers["access-control-allow-origin"] == "https://dash.example"


def test_a_sensor_stream_is_served_without_video(tmp_path):
    from edgeinfer import load
    from edgeinfer.sensor.stream import open_sensor_windows
    from test_sensor_run import CHANNELS, stream_csv

    model = tiny_models.save(tiny_models.sensor_channel_means(CHANNELS, window=8, hop=8),
                             tmp_path / "sensor.onnx")
    dominant = ["ay", "ax", "az", "ay"]
    stream = stream_csv(tmp_path / "s.csv", dominant)
    parts = parts_for([model], open_sensor_windows(stream, load(model).info.sensor))
    with serving(parts) as url:
        wait_for(lambda: not parts.live.running, what="the stream to end")
        with httpx.Client(base_url=url) as client:
            latest = client.get("/api/latest").json()
            assert (latest["label"], latest["frame"]) == ("ay", 3)
            assert "first_sample_time" in latest
            assert client.get("/healthz").json()["live"]["classified"] == len(dominant)
            assert_error(client.get("/video.mjpg"), 404, "no live video")
            assert_error(client.post("/api/predict", content=read(CAT)), 400, "sensor windows")
