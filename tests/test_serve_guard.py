"""What keeps other web pages and odd requests from the default server (loopback,
no token), on a real uvicorn server: the Host and Origin checks, numbers that
are digits only to Unicode, errors that stay one line in the answer and the
log, posted images decoded a few at a time, a token holding a '+'."""
import os
import threading
import time

import httpx
import pytest

from edgeinfer.media import DATA_DIR
from edgeinfer.serve.app import DECODING_AT_ONCE
from serve_server import parts_for, serving
from test_serve_api import TOKEN, assert_error

CAT = os.path.join(DATA_DIR, "chelsea.jpg")


def read(path):
    with open(path, "rb") as f:
        return f.read()


JPEG = {"Content-Type": "image/jpeg"}


@pytest.fixture(scope="module")
def server(media):
    with serving(parts_for([media["model"]])) as url:
        yield url


def port(url):
    return url.rsplit(":", 1)[1]


def test_foreign_host_header_is_refused_without_a_token(server, media):
    with httpx.Client(base_url=server, timeout=10) as client:
        # a page on evil.example whose name was rebound to 127.0.0.1
        for path in ["/api/latest", "/video.mjpg", "/api/models", "/api/stream", "/"]:
            assert_error(client.get(path, headers={"Host": f"evil.example:{port(server)}"}),
                         403, "evil.example", "--token")
        assert_error(client.post("/api/teach/samples?label=a",
                                 headers={"Host": "evil.example"}), 403)
        for host in ["localhost", f"localhost:{port(server)}", "127.0.0.1",
                     f"127.0.0.1:{port(server)}", "[::1]", f"[::1]:{port(server)}",
                     f"LOCALHOST:{port(server)}"]:
            assert client.get("/api/models", headers={"Host": host}).status_code == 200, host
    # with a token the token decides, whatever name the server is reached by
    with serving(parts_for([media["model"]]), token=TOKEN) as url:
        answer = httpx.get(url + "/api/models", headers={
            "Host": "pi.local:8080", "Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200


def test_own_names_are_answered_only_off_loopback():
    import socket

    from edgeinfer.serve.auth import own_names

    short = socket.gethostname().split(".")[0].lower()
    # on loopback a name would let a rebound page in: only what the user allows
    assert own_names("127.0.0.1") == set() and own_names("::1", ["Dash.lan."]) == {"dash.lan"}
    names = own_names("0.0.0.0")
    assert {short, short + ".local"} <= names and "localhost" not in names
    assert "pi.example" in own_names("pi.example") and "192.168.1.20" not in \
        own_names("192.168.1.20")


def test_cross_origin_post_is_refused(server, media):
    with httpx.Client(base_url=server, timeout=10) as client:
        evil = {"Origin": "https://evil.example"}
        assert_error(client.post("/api/predict", content=read(CAT), headers={**JPEG, **evil}),
                     403, "https://evil.example", "--cors")
        # a form posted from another site: a simple request, no preflight
        assert_error(client.post("/api/teach/samples?label=a&count=1", headers={
            **evil, "Content-Type": "application/x-www-form-urlencoded"}), 403)
        assert_error(client.post("/api/teach/train", headers=evil), 403)
        assert_error(client.delete("/api/teach/samples?label=a", headers=evil), 403)
        # reading is left to the browser's same-origin rule (a GET changes nothing)
        assert client.get("/api/models", headers=evil).status_code == 200
        # the server's own page, and a client sending no Origin (curl, a script)
        own = {"Origin": server}
        assert client.post("/api/predict", content=read(CAT),
                           headers={**JPEG, **own}).json()["label"] == "cat"
        assert client.post("/api/predict", content=read(CAT), headers=JPEG).status_code == 200
    with serving(parts_for([media["model"]]), cors=["https://dash.example"]) as url:
        allowed = httpx.post(url + "/api/predict", content=read(CAT), headers={
            **JPEG, "Origin": "https://dash.example"})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
        assert_error(httpx.post(url + "/api/predict", content=read(CAT), headers={
            **JPEG, "Origin": "https://evil.example"}), 403)


@pytest.mark.parametrize("value", ["²", "١"])   # digits to str.isdigit(), not to int()
def test_a_top_k_of_unicode_digits_is_400_without_a_traceback(server, value, capfd):
    assert_error(httpx.post(f"{server}/api/predict?top_k={value}", content=read(CAT),
                            headers=JPEG), 400, "top_k")
    assert "Traceback" not in capfd.readouterr().err


class FailingPredictor:
    """The served predictor, failing as a bug in it would."""

    def __init__(self, predictor):
        self.predictor = predictor

    def __getattr__(self, name):
        return getattr(self.predictor, name)

    def __call__(self, *args):
        raise RuntimeError("the model broke\nsecond line")


def test_an_unexpected_error_is_a_one_line_500_and_one_log_line(media, capfd):
    parts = parts_for([media["model"]])
    parts.predictor = FailingPredictor(parts.predictor)
    with serving(parts) as url:
        assert_error(httpx.post(url + "/api/predict", content=read(CAT), headers=JPEG), 500,
                     "RuntimeError", "the model broke")
        assert httpx.get(url + "/healthz").status_code == 200   # the server goes on
    log = capfd.readouterr().err
    assert "Traceback" not in log and "second line" not in log
    said = [line for line in log.splitlines() if "the model broke" in line]
    assert len(said) == 1 and said[0].endswith("POST /api/predict: RuntimeError: the model broke")


class CountingPredictor:
    """The served predictor, counting the posted images it has at once."""

    def __init__(self, predictor):
        self.predictor, self.now, self.most = predictor, 0, 0
        self.lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.predictor, name)

    def __call__(self, *args):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.05)   # long enough for the other requests to arrive meanwhile
            return self.predictor(*args)
        finally:
            with self.lock:
                self.now -= 1


def test_posted_images_are_decoded_a_few_at_a_time_and_the_rest_wait(media):
    parts = parts_for([media["model"]])
    counting = parts.predictor = CountingPredictor(parts.predictor)
    statuses = []
    with serving(parts) as url:
        def post():
            statuses.append(httpx.post(url + "/api/predict", content=read(CAT), headers=JPEG,
                                       timeout=30).status_code)
        threads = [threading.Thread(target=post) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * 8
    assert counting.most == DECODING_AT_ONCE


def test_a_token_with_a_plus_in_the_address_is_read_as_a_plus(media):
    token = "a+b/c=="
    with serving(parts_for([media["model"]]), token=token) as url:
        page = httpx.get(f"{url}/?token={token}")
        assert page.status_code == 200, page.text
        assert_error(httpx.get(f"{url}/?token=a b/c=="), 401)
