"""`edgeinfer run --mqtt` against a real Mosquitto broker on a loopback port:
every result arrives in order as the record `run --json` writes; a broker
stopped for 2 s mid-run loses nothing; the retained status goes online ->
offline (on a clean end, and by last will when the process is killed); a
full buffer is counted, warned about and reported; a wrong password, a broker
out of reach and a bad URL are each one line and exit status 2."""
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from mqtt_broker import (Broker, Subscriber, free_port, make_certificates, need_mosquitto,
                         retained_status)
from conftest import assert_one_line_error as assert_one_line_error_of
from test_run_cli import assert_one_line_error, read_jsonl, run
from tools import sample_clip

TOPIC = "edgeinfer/test"


@pytest.fixture
def subscriber(broker):
    listener = Subscriber(broker, TOPIC)
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def live_clip(tmp_path_factory):
    """6 s at 10 frames per second: long enough to straddle a 2 s outage when
    played at its own pace (--realtime)."""
    path = str(tmp_path_factory.mktemp("live") / "live.avi")
    sample_clip.write_clip(path, (96, 72), frames_per_photo=30, fps=10.0)
    return path


def start_run(media, clip, broker, out_json, *extra):
    """`edgeinfer run --realtime ... --mqtt` in its own process, as on a device."""
    argv = [sys.executable, "-m", "edgeinfer", "run", "--model", media["model"], "--video",
            clip, "--realtime", "--json", str(out_json), "--quiet",
            "--mqtt", f"{broker.url}/{TOPIC}", *map(str, extra)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, seconds=60):
    try:
        out, err = process.communicate(timeout=seconds)
    finally:
        process.kill()
    assert "Traceback" not in err, err
    return process.returncode, err


def mqtt_summary(err):
    lines = [line.strip() for line in err.splitlines() if line.strip().startswith("mqtt: ")]
    assert len(lines) == 1, err
    return lines[0]


def first_arrivals(frames):
    seen, order = set(), []
    for frame in frames:
        if frame not in seen:
            seen.add(frame)
            order.append(frame)
    return order


@pytest.mark.parametrize("qos", [1, 0, 2])
def test_every_result_arrives_in_order_as_run_json_writes_it(capsys, media, broker,
                                                             subscriber, tmp_path, qos):
    out_json = tmp_path / "run.jsonl"
    code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"], "--json",
                       out_json, "--quiet", "--mqtt", f"{broker.url}/{TOPIC}", "--mqtt-qos", qos)
    assert code == 0, err
    written = read_jsonl(out_json)
    assert len(written) == len(media["clip_labels"])
    subscriber.wait_for(lambda s: len(s.records) >= len(written), 10, "every result")
    assert subscriber.records == written   # the same records, in the same order
    subscriber.wait_for(lambda s: ("offline", False) in s.statuses, 5, "offline")
    assert [status for status, _ in subscriber.statuses] == ["online", "offline"]
    assert retained_status(broker, TOPIC) == "offline"
    count = len(written)
    assert mqtt_summary(err) == (f"mqtt: {count} of {count} results delivered to "
                                 f"mqtt://127.0.0.1:{broker.port}/{TOPIC} (QoS {qos})")
    assert "warning" not in err


def test_broker_stopped_for_2_s_mid_run_loses_no_result(media, broker, subscriber, live_clip,
                                                        tmp_path):
    out_json = tmp_path / "live.jsonl"
    process = start_run(media, live_clip, broker, out_json)
    try:
        subscriber.wait_for(lambda s: len(s.records) >= 5, 30, "the first results")
        broker.stop()
        away = time.time()
        time.sleep(2)
        broker.start()
        back = time.time()
        code, err = finish(process)
    finally:
        process.kill()
    assert code == 0, err
    written = read_jsonl(out_json)
    # the outage fell inside the run: results were produced while the broker was away
    assert any(away < record["captured_at"] < back for record in written)
    subscriber.wait_for(lambda s: len(set(s.frames())) >= len(written), 15, "every result")
    frames = [record["frame"] for record in written]
    assert first_arrivals(subscriber.frames()) == frames   # none lost, in order
    unique = {record["frame"]: record for record in subscriber.records}
    assert [unique[frame] for frame in frames] == written
    assert "lost the connection to 127.0.0.1" in err and "again after" in err
    count = len(written)
    assert mqtt_summary(err) == (f"mqtt: {count} of {count} results delivered to "
                                 f"mqtt://127.0.0.1:{broker.port}/{TOPIC} (QoS 1)")


def test_killed_run_goes_offline_by_last_will(media, broker, subscriber, live_clip, tmp_path):
    process = start_run(media, live_clip, broker, tmp_path / "killed.jsonl")
    try:
        subscriber.wait_for(lambda s: len(s.records) >= 3, 30, "the first results")
        assert retained_status(broker, TOPIC) == "online"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        process.kill()
    subscriber.wait_for(lambda s: s.statuses[-1:] == [("offline", False)], 10, "the last will")
    assert retained_status(broker, TOPIC) == "offline"


def test_full_buffer_drops_the_oldest_counts_warns_and_reports(media, broker, subscriber,
                                                               live_clip, tmp_path):
    out_json = tmp_path / "overflow.jsonl"
    process = start_run(media, live_clip, broker, out_json, "--mqtt-buffer", 3)
    try:
        subscriber.wait_for(lambda s: len(s.records) >= 5, 30, "the first results")
        broker.stop()
        time.sleep(2)
        broker.start()
        code, err = finish(process)
    finally:
        process.kill()
    assert code == 0, err
    frames = [record["frame"] for record in read_jsonl(out_json)]
    summary = mqtt_summary(err)
    words = summary.split()
    delivered, written = int(words[1]), int(words[3])
    dropped = int(summary.split("; ")[1].split()[0])
    assert written == len(frames) and dropped > 0 and delivered + dropped == written
    assert summary.endswith(f"; {dropped} dropped while the broker was away (buffer 3, "
                            "--mqtt-buffer)")
    assert "the buffer of 3 is full: dropping the oldest" in err
    assert f"mqtt: {dropped} of {written} results did not reach" in err
    subscriber.wait_for(lambda s: len(set(s.frames())) >= delivered, 15, "what was kept")
    heard = first_arrivals(subscriber.frames())
    assert len(heard) == delivered
    missing = [frame for frame in frames if frame not in set(heard)]
    # the oldest of the outage went: one run of frames, followed by the 3 kept
    start = frames.index(missing[0])
    assert missing == frames[start:start + dropped]
    assert heard == [frame for frame in frames if frame not in set(missing)]


def test_wrong_password_is_one_line_and_the_env_password_logs_in(capsys, media, tmp_path,
                                                                 monkeypatch):
    need_mosquitto()
    broker = Broker(tmp_path / "broker", users={"pi": "s3cret"}).start()
    try:
        out_json = tmp_path / "never.jsonl"
        code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                           "--json", out_json, "--mqtt",
                           f"mqtt://pi:wrong@127.0.0.1:{broker.port}/{TOPIC}")
        assert_one_line_error(code, err, "refused user 'pi'", "password",
                              "EDGEINFER_MQTT_PASSWORD")
        assert "wrong" not in err and not out_json.exists()
        code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                           "--mqtt", f"mqtt://127.0.0.1:{broker.port}/{TOPIC}")
        assert_one_line_error(code, err, "refused the connection", "mqtt://USER@host/topic")
        monkeypatch.setenv("EDGEINFER_MQTT_PASSWORD", "s3cret")
        code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                           "--quiet", "--mqtt", f"mqtt://pi@127.0.0.1:{broker.port}/{TOPIC}")
        assert code == 0, err
        count = len(media["clip_labels"])
        assert mqtt_summary(err).startswith(f"mqtt: {count} of {count} results delivered to "
                                            f"mqtt://pi@127.0.0.1:{broker.port}/")
    finally:
        broker.stop()


def test_broker_out_of_reach_at_start_is_one_line_and_makes_no_file(capsys, media, tmp_path):
    out_json = tmp_path / "never.jsonl"
    port = free_port()
    code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"], "--json",
                       out_json, "--mqtt", f"mqtt://127.0.0.1:{port}/{TOPIC}")
    assert_one_line_error(code, err, f"nothing accepts connections at 127.0.0.1:{port}")
    assert not out_json.exists()


@pytest.mark.parametrize("argv, words", [
    (["--mqtt", "http://broker/t"], ["--mqtt takes mqtt://"]),
    (["--mqtt", "broker/topic"], ["--mqtt takes mqtt://"]),
    (["--mqtt", "mqtt://broker"], ["no topic"]),
    (["--mqtt", "mqtt://pi:hunter2@broker:99999/t"], ["port", "pi:***@"]),
    (["--mqtt", "mqtt://broker/home/#"], ["wildcards"]),
    (["--mqtt", "mqtt://broker/t", "--mqtt-buffer", "0"], ["--mqtt-buffer", "at least 1"]),
    (["--mqtt", "mqtt://broker/t", "--mqtt-ca", "/no/ca.pem"], ["--mqtt-ca", "no such file"]),
    (["--mqtt", "mqtt://broker/t", "--mqtt-key", "k.pem"], ["--mqtt-cert"]),
    (["--mqtt-qos", "2"], ["--mqtt-qos", "give the broker with --mqtt URL"]),
])
def test_bad_mqtt_options_are_one_line(capsys, media, argv, words):
    code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"], *argv)
    assert_one_line_error(code, err, *words)
    assert "hunter2" not in err


def test_tls_with_the_brokers_ca_delivers_and_an_unknown_ca_is_one_line(capsys, media,
                                                                         tmp_path):
    need_mosquitto()
    if not shutil.which("openssl"):
        pytest.skip("needs openssl to make the test certificates")
    files = make_certificates(tmp_path / "certificates")
    broker = Broker(tmp_path / "broker", tls=files).start()
    url = f"mqtts://127.0.0.1:{broker.port}/{TOPIC}"
    try:
        code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                           "--quiet", "--mqtt", url, "--mqtt-ca", files["ca"])
        assert code == 0, err
        count = len(media["clip_labels"])
        assert mqtt_summary(err) == f"mqtt: {count} of {count} results delivered to {url} (QoS 1)"
        code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                           "--mqtt", url)   # the system's CAs do not know the test CA
        assert_one_line_error(code, err, "TLS handshake failed", "not trusted", "--mqtt-ca")
        code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                           "--mqtt", url.replace("127.0.0.1", "localhost"), "--mqtt-ca",
                           files["ca"])   # the certificate names 127.0.0.1 only
        assert_one_line_error(code, err, "certificate is not for 'localhost'")
        code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                           "--mqtt", url.replace("mqtts:", "mqtt:"))
        assert_one_line_error(code, err, "mqtts://")
    finally:
        broker.stop()


def test_serve_publishes_its_live_results_to_the_broker(media, broker, subscriber, tmp_path):
    """`serve --mqtt`: the live source's results reach the broker as `run`'s do,
    the same records the page's stream carries; Ctrl-C sends the offline status."""
    from tools.serve_process import start_serving

    # played at its own pace (6 s), so the run is still live when the status is read: a
    # source that ends closes the run's sinks, and the status goes offline with it
    clip = str(tmp_path / "live.avi")
    sample_clip.write_clip(clip, (96, 72), frames_per_photo=30, fps=10.0)
    process, _, line = start_serving("-m", media["model"], "--video", clip, "--realtime",
                                     "--mqtt", f"{broker.url}/{TOPIC}")
    try:
        assert "serving photo on video" in line
        subscriber.wait_for(lambda s: len(s.frames()) >= 10, 30, "10 served results")
        assert retained_status(broker, TOPIC) == "online"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
    frames = subscriber.frames()
    assert frames[:10] == list(range(10)), frames
    assert "mqtt" in err.lower() and "Traceback" not in err, err
    assert retained_status(broker, TOPIC) == "offline"


def test_serve_mqtt_without_a_source_is_one_line(cli, media):
    code, _, err = cli("serve", "-m", media["model"], "--mqtt", "mqtt://127.0.0.1:1/t")
    assert_one_line_error_of(code, err, "--mqtt", "live source")
