"""`edgeinfer serve` as a user starts it: a real process on a video, reached
over loopback, stopped with Ctrl-C; and the refusals that come before anything
listens, each one line with exit status 2."""
import json
import re
import signal
import socket
import time

import httpx
import pytest

from conftest import assert_one_line_error
from edgeinfer.commands.serve import byte_size
from tools import sample_clip
from tools.serve_process import start_serving

TOKEN = "cli-test-token"


def test_serve_on_every_address_with_a_token_runs_the_video_and_stops_on_ctrl_c(media,
                                                                                tmp_path):
    clip = str(tmp_path / "long.mp4")
    sample_clip.write_clip(clip, (160, 120), 60, fps=15.0)   # 8 s when played in real time
    process, url, line = start_serving("-m", media["model"], "--video", clip, "--realtime",
                                       "--host", "0.0.0.0", "--token", TOKEN)
    try:
        assert "serving photo on video" in line
        assert httpx.get(url + "/healthz").json()["status"] == "ok"
        assert httpx.get(url + "/api/latest").status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.stream("GET", url + "/api/stream", headers=bearer, timeout=10) as response:
            record = next(json.loads(line[len("data: "):]) for line in response.iter_lines()
                          if line.startswith('data: {"frame"'))
        assert record["label"] == media["truth"]["chelsea"] and record["frame"] < 60
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "ERROR" not in err
    assert re.search(r"edgeinfer serve: live run: \d+ frames, \d+ classified", err), err


def test_no_auth_server_on_every_address_answers_its_own_host_name(media):
    """It answered its IP address only: a Pi served with --no-auth could not be
    opened as http://pi.local:8080/."""
    process, url, _ = start_serving("-m", media["model"], "--host", "0.0.0.0", "--no-auth",
                                    "--allow-host", "dash.lan")
    port = url.rsplit(":", 1)[1]
    short = socket.gethostname().split(".")[0]
    try:
        for name in (short, f"{short}.local", "dash.lan", "DASH.LAN"):
            answer = httpx.get(url + "/api/models", headers={"Host": f"{name}:{port}"})
            assert answer.status_code == 200, (name, answer.text)
        refused = httpx.get(url + "/api/models", headers={"Host": f"evil.example:{port}"})
        assert refused.status_code == 403
        message = refused.json()["error"]
        assert "evil.example" in message and f"{short}.local" in message
        assert "--allow-host" in message and "\n" not in message
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=15)
    finally:
        process.kill()


def test_a_non_loopback_host_without_a_token_is_refused(cli, media):
    for host in ("0.0.0.0", "192.168.1.20", "::", "pi.local"):
        code, _, err = cli("serve", "-m", media["model"], "--host", host)
        assert_one_line_error(code, err, host, "--token", "--no-auth")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_token(host):
    from edgeinfer.serve.auth import check_bind, is_loopback

    assert is_loopback(host)
    check_bind(host, None, False)


@pytest.mark.parametrize("args,words", [
    (["--token", "two words"], ["--token may hold"]),
    (["--token", " "], ["--token is empty"]),
    (["--token", "abc", "--no-auth"], ["contradict"]),
    (["--top-k", "0"], ["--top-k"]),
    (["--port", "70000"], ["--port"]),
    (["--realtime"], ["--realtime", "--video"]),
])
def test_bad_options_are_one_line(cli, media, args, words):
    code, _, err = cli("serve", "-m", media["model"], *args)
    assert_one_line_error(code, err, *words)


def test_no_model_is_one_line(cli):
    code, _, err = cli("serve")
    assert_one_line_error(code, err, "--model is required")


def test_a_port_in_use_is_one_line(cli, media):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        started = time.monotonic()
        code, _, err = cli("serve", "-m", media["model"], "--port", port)
    assert_one_line_error(code, err, f"127.0.0.1:{port}", "--port")
    assert time.monotonic() - started < 5


def test_max_body_sizes():
    assert byte_size("10MB") == 10_000_000
    assert byte_size("512k") == 512_000
    assert byte_size("2MiB") == 2 * 2**20
    assert byte_size("1.5 mb") == 1_500_000
    assert byte_size("4096") == 4096
    for bad in ("", "10XB", "-1", "0", "MB"):
        with pytest.raises(Exception, match="size|at least"):
            byte_size(bad)


def test_keep_alive_responses_do_not_wait_for_a_delayed_ack():
    """The listening socket was made without naming TCP as its protocol; asyncio
    then left TCP_NODELAY off on the connections it accepted, and every response
    on a kept-alive connection waited ~40 ms for the client's delayed ACK."""
    import asyncio

    from edgeinfer.commands.serve import _listen

    listener = _listen("127.0.0.1", 0)

    async def accepted_nodelay():
        found = asyncio.get_running_loop().create_future()

        def connected(reader, writer):
            found.set_result(writer.get_extra_info("socket").getsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()
        server = await asyncio.start_server(connected, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        nodelay = await asyncio.wait_for(found, 5)
        writer.close()
        server.close()
        return nodelay
    assert asyncio.run(accepted_nodelay()) != 0
