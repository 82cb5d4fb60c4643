"""`edgeinfer run` on the damaged files and dead streams people really have: a
decompression-bomb PNG and a text file among photos, a video damaged in the
middle, a stream that opens but sends no video, and runs that classify nothing.
Each is skipped with a warning (the run goes on) or ends with one line and a
non-zero exit."""
import contextlib
import functools
import json
import os
import signal
import struct
import threading
import time
import zlib
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

import edgeinfer.run.stream as run_stream
from edgeinfer.cli import main
from edgeinfer.sources import open_stream
from edgeinfer.sources.capture import Backoff
from tools import sample_clip

WARNING = "edgeinfer run: warning: "


def run(capsys, *argv, command="run"):
    code = main([command, *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def error_line(err, command="run"):
    """The one error line, which comes last: after the header, warnings and summary."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and lines[-1].startswith(f"edgeinfer {command}: "), err
    assert sum(": warning: " not in line and not line.startswith("  ")
               for line in lines) <= 3, err  # header, summary head, the error
    return lines[-1]


def decompression_bomb(path):
    """74 bytes of valid PNG whose header declares 60000 x 60000 RGB pixels (10.8 GB):
    OpenCV's imread raises on it instead of returning None."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + \
        chunk(b"IDAT", zlib.compress(b"\0" * 778, 9)) + chunk(b"IEND", b"")
    assert len(data) == 74
    path.write_bytes(data)
    with pytest.raises(cv2.error):  # the premise: imread raises, it does not return None
        cv2.imread(str(path))
    return path


def test_a_decompression_bomb_and_a_text_jpg_are_skipped_and_both_photos_classified(
        capsys, media, tmp_path):
    folder = tmp_path / "fresh"
    folder.mkdir()
    decompression_bomb(folder / "a-bomb.png")
    (folder / "b-notes.jpg").write_text("shopping list: milk, eggs\n")
    for name in ("chelsea", "coffee"):
        cv2.imwrite(str(folder / f"c-{name}.jpg"), sample_clip.photo(name))
    out_json = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "--model", media["model"], "--image", folder, "--json", out_json)
    assert code == 0, err
    records = read_jsonl(out_json)
    assert [os.path.basename(r["file"]) for r in records] == ["c-chelsea.jpg", "c-coffee.jpg"]
    assert [r["label"] for r in records] == [media["truth"]["chelsea"], media["truth"]["coffee"]]
    warnings = [line for line in err.splitlines() if line.startswith(WARNING)]
    assert len(warnings) == 2, err
    assert "a-bomb.png" in warnings[0] and "more pixels than OpenCV will decode" in warnings[0]
    assert "b-notes.jpg" in warnings[1]
    assert "4 frames" not in err and "2 frames, 2 classified, 0 dropped, 2 skipped" in err
    assert "Traceback" not in err and err.splitlines()[-1].startswith("  written: ")


def test_preprocess_on_a_decompression_bomb_prints_one_line(capsys, tmp_path):
    bomb = decompression_bomb(tmp_path / "bomb.png")
    code, out, err = run(capsys, bomb, "--repeat", 0, command="preprocess")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgeinfer preprocess: image "), err
    assert "bomb.png" in lines[0] and "more pixels than OpenCV will decode" in lines[0]


def damage(path, out, size=20_000, seed=0):
    """A copy of path with `size` bytes in the middle overwritten by noise."""
    data = bytearray(open(path, "rb").read())
    middle = len(data) // 2
    data[middle:middle + size] = np.random.default_rng(seed).integers(
        0, 256, size, dtype=np.uint8).tobytes()
    out.write_bytes(bytes(data))
    return out


def decoded_frames(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_damage_mid_video_skips_the_frames_that_do_not_decode_and_reaches_the_end(
        capsys, media, tmp_path):
    clip = tmp_path / "clip.mp4"
    shown = sample_clip.write_clip(str(clip), (160, 120), frames_per_photo=150, fps=15.0)
    clean = decoded_frames(clip)
    assert clean == len(shown) == 300
    damaged = damage(clip, tmp_path / "damaged.mp4")
    # the premise: a plain read loop stops at the damage, far from the end
    assert decoded_frames(damaged) < clean * 0.7
    out_json = tmp_path / "d.jsonl"
    code, _, err = run(capsys, "--model", media["model"], "--video", damaged, "--json", out_json,
                       "--quiet")
    assert code == 0, err
    records = read_jsonl(out_json)
    frames = [r["frame"] for r in records]
    skipped = clean - len(records)
    assert 0 < skipped < 40 and frames[-1] == clean - 1  # on to the real last frame
    # every frame of the clip is classified or counted as skipped, and keeps its number
    missing = sorted(set(range(clean)) - set(frames))
    assert len(missing) == skipped and frames == sorted(frames)
    assert records[-1]["position_s"] == pytest.approx((clean - 1) / 15.0, abs=1e-3)
    assert f"{clean - skipped} frames, {clean - skipped} classified, 0 dropped, " \
           f"{skipped} skipped" in err
    warnings = [line for line in err.splitlines() if line.startswith(WARNING)]
    assert warnings and all("damaged.mp4" in w and "do not decode" in w for w in warnings)
    assert f"frames {missing[0]}-" in warnings[0]
    # frames after the damage are where the clip says: labels still match what is shown
    truth = {"chelsea": "cat", "coffee": "coffee"}
    after = [r for r in records if r["frame"] > missing[-1]]
    agree = sum(r["label"] == truth[shown[r["frame"]]] for r in after)
    assert agree >= 0.9 * len(after)


class EmptyVideoServer:
    """Serves, on 127.0.0.1, a video file that OpenCV opens but that holds no frames:
    a stream that answers but never sends video."""

    def __init__(self, directory):
        path = os.path.join(directory, "empty.avi")
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (32, 24))
        writer.release()
        self.requests = 0
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                         functools.partial(Handler, directory=str(directory)))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/empty.avi"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def deadline(seconds):
    """Fails the test (rather than hanging it) when the block runs longer than seconds."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def empty_stream(tmp_path):
    server = EmptyVideoServer(tmp_path)
    yield server
    server.close()


def test_a_stream_that_opens_but_never_delivers_gives_up_after_the_attempts(
        capsys, media, empty_stream, monkeypatch):
    attempts = 3
    monkeypatch.setattr(run_stream, "open_stream",
                        functools.partial(open_stream, backoff=Backoff(first=0.01, attempts=attempts)))
    started = time.monotonic()
    with deadline(30):  # retrying forever is the bug this guards against
        code, _, err = run(capsys, "--model", media["model"], "--url", empty_stream.url)
    assert time.monotonic() - started < 20
    assert code == 2, err
    error = error_line(err)
    assert f"opens but delivers no frames after {attempts} attempts" in error
    assert "127.0.0.1" in error
    assert err.count("reconnecting in") == attempts
    assert empty_stream.requests <= 1 + attempts + 1  # the probe may read it twice at most


def test_smoothing_is_refused_for_images(capsys, media):
    from edgeinfer.media import DATA_DIR

    code, _, err = run(capsys, "--model", media["model"], "--image", DATA_DIR, "--smoothing", 3)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgeinfer run: --smoothing"), err
    assert "--image" in lines[0]


def test_a_run_that_classified_nothing_exits_non_zero(capsys, media, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    code, out, err = run(capsys, "--model", media["model"], "--image", notes)
    assert code == 2 and out == ""
    error = error_line(err)
    assert "nothing was classified" in error and "1 skipped" in error
    assert "0 frames, 0 classified" in err  # the summary still prints


def test_realtime_play_of_a_damaged_video_skips_the_damage_and_reaches_the_end(
        capsys, media, tmp_path):
    clip = tmp_path / "fast.mp4"
    sample_clip.write_clip(str(clip), (160, 120), frames_per_photo=150, fps=300.0)  # 1 s
    clean = decoded_frames(clip)
    damaged = damage(clip, tmp_path / "damaged.mp4")
    out_json = tmp_path / "r.jsonl"
    code, _, err = run(capsys, "--model", media["model"], "--video", damaged, "--realtime",
                       "--json", out_json, "--quiet")
    assert code == 0, err
    records = read_jsonl(out_json)
    # the newest frame is kept, so the last one read is the file's last frame
    assert records[-1]["position_s"] == pytest.approx((clean - 1) / 300.0, abs=1e-3)
    summary = next(line for line in err.splitlines() if " classified, " in line)
    skipped = int(summary.split(" skipped")[0].rsplit(", ", 1)[1])
    assert 0 < skipped < 40
    assert any("damaged.mp4" in line and "do not decode" in line
               for line in err.splitlines() if line.startswith(WARNING))
