"""Sources: the newest-frame capture thread (drops counted, reconnection with
back-off), video files in order or paced, image files, and the messages for
devices that are not there."""
import logging
import os
import sys
import threading
import time
import types

import cv2
import numpy as np
import pytest

from edgeinfer.errors import SourceError
from edgeinfer.sources import open_camera, open_images, open_picam, open_stream, open_video
from edgeinfer.sources.capture import Backoff, CaptureLatest
from tools import sample_clip


class FakeCamera:
    """Delivers frames at `fps` like a real camera: read() blocks until the next
    one is due; each frame is filled with its own number. After `fail_after`
    frames it goes dark (read() fails), as an unplugged camera does."""

    def __init__(self, fps=200.0, fail_after=None, tag=0):
        self.period = 1.0 / fps
        self.tag = tag  # written into the green channel: which camera made a frame
        self.fail_after = fail_after
        self.number = 0
        self.delivered = 0
        self.next_due = time.monotonic()
        self.released = False

    def read(self):
        if self.fail_after is not None and self.delivered >= self.fail_after:
            time.sleep(self.period)
            return False, None
        delay = self.next_due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next_due += self.period
        frame = np.full((4, 4, 3), self.number % 256, np.uint8)
        frame[..., 1] = self.tag
        self.number += 1
        self.delivered += 1
        return True, frame

    def release(self):
        self.released = True


def drain(source, seconds, pause):
    """Takes frames for `seconds`, pausing `pause` after each, like a slow model."""
    taken = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        frame = source.read(timeout=0.5)
        if frame is not None:
            taken.append((frame, time.monotonic()))
            time.sleep(pause)
    return taken


def test_a_slow_consumer_gets_the_newest_frame_and_drops_are_counted():
    camera = FakeCamera(fps=200.0)
    source = CaptureLatest(lambda: camera, "fake camera").start()
    taken = drain(source, seconds=0.6, pause=0.03)  # ~33 frames/s against 200 frames/s
    source.close()

    indices = [frame.index for frame, _ in taken]
    assert len(taken) >= 5
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    # frames come from the device in order: each frame's pixels carry its number
    assert all(frame.image[0, 0, 0] == frame.index % 256 for frame, _ in taken)
    # newest-frame semantics: frames are skipped between reads, never queued up
    gaps = np.diff(indices)
    assert np.median(gaps) >= 3
    # a frame taken is fresh: younger than the pause that let others replace it
    ages = [got - frame.captured for frame, got in taken]
    assert np.median(ages) < 0.02
    # every frame the camera delivered was either taken, dropped or still waiting
    leftover = camera.delivered - len(taken) - source.dropped
    assert source.captured == camera.delivered and leftover in (0, 1)
    assert source.dropped > len(taken)
    assert camera.released


def test_a_consumer_faster_than_the_camera_gets_every_frame():
    camera = FakeCamera(fps=40.0)
    source = CaptureLatest(lambda: camera, "fake camera").start()
    taken = drain(source, seconds=0.4, pause=0.0)
    source.close()
    # a busy machine may leave the consumer unscheduled for a frame period now and then
    assert source.dropped <= 2
    assert len(taken) >= camera.delivered - 3 and len(taken) >= 10
    assert [f.index for f, _ in taken] == sorted({f.index for f, _ in taken})


def test_a_camera_that_disappears_is_reopened_with_backoff(caplog):
    opened = []

    def open_device():
        # the second open fails (camera still unplugged), the third succeeds
        if len(opened) == 1:
            opened.append(None)
            raise SourceError("still gone")
        camera = FakeCamera(fps=200.0, fail_after=5 if not opened else None,
                            tag=len(opened))
        opened.append(camera)
        return camera

    with caplog.at_level(logging.WARNING, logger="edgeinfer"):
        source = CaptureLatest(open_device, "fake camera",
                               backoff=Backoff(first=0.01, attempts=5)).start()
        taken = drain(source, seconds=0.5, pause=0.0)
        source.close()
    assert len(opened) == 3 and source.reconnects == 1
    assert opened[0].released
    # frames from the first camera until it went dark, then from the reopened one
    tags = [int(f.image[0, 0, 1]) for f, _ in taken]
    switch = tags.index(2)
    assert 1 <= switch <= 5 and set(tags[:switch]) == {0} and set(tags[switch:]) == {2}
    assert len(tags) - switch > 10
    assert [f.index for f, _ in taken] == sorted(f.index for f, _ in taken)
    assert "stopped delivering frames; reconnecting in 0.0 s (attempt 1 of 5)" in caplog.text
    assert "attempt 2 of 5" in caplog.text and "is back" in caplog.text


def test_a_camera_that_never_comes_back_ends_the_run_with_a_clear_error(caplog):
    first = [FakeCamera(fps=500.0, fail_after=3)]

    def open_device():
        if first:
            return first.pop()
        raise SourceError("gone")

    source = CaptureLatest(open_device, "camera 7", backoff=Backoff(first=0.01,
                                                                    attempts=3)).start()
    with pytest.raises(SourceError, match="camera 7 stopped delivering frames and did not "
                                          "come back after 3 attempts"):
        for _ in range(100):
            source.read(timeout=0.2)
    assert source.finished
    source.close()


def test_close_stops_the_capture_thread_promptly():
    source = CaptureLatest(lambda: FakeCamera(fps=50.0), "fake camera").start()
    source.read(timeout=1.0)
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 1.0
    assert not any(t.name == "capture fake camera" for t in threading.enumerate())


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clip") / "clip.avi")
    shown = sample_clip.write_clip(path, (96, 72), frames_per_photo=15, fps=30.0)
    return path, len(shown)


def read_all(source, pause=0.0):
    frames = []
    while not source.finished:
        frame = source.read(timeout=0.5)
        if frame is not None:
            frames.append(frame)
            time.sleep(pause)
    source.close()
    return frames


def test_a_video_file_delivers_every_frame_in_order(clip):
    path, count = clip
    frames = read_all(open_video(path), pause=0.002)  # a slow reader still loses nothing
    assert [f.index for f in frames] == list(range(count))
    assert frames[-1].position == pytest.approx((count - 1) / 30.0)
    capture = cv2.VideoCapture(path)
    for frame in frames[:3]:
        ok, expected = capture.read()
        assert ok and np.array_equal(frame.image, expected)


def test_realtime_paces_a_file_and_drops_what_a_slow_reader_misses(clip):
    path, count = clip
    source = open_video(path, realtime=True)
    started = time.monotonic()
    frames = read_all(source, pause=0.05)  # 20 frames/s against a 30 frames/s file
    elapsed = time.monotonic() - started
    assert elapsed == pytest.approx(count / 30.0, abs=0.25)
    assert source.dropped > 0
    assert len(frames) + source.dropped == count
    assert [f.index for f in frames] == sorted({f.index for f in frames})


def test_images_from_folders_and_patterns_skip_what_is_not_an_image(tmp_path, caplog):
    for name in ("chelsea", "coffee"):
        cv2.imwrite(str(tmp_path / f"{name}.png"), sample_clip.photo(name))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "notes.txt").write_text("not listed: folders yield image files only")
    with caplog.at_level(logging.WARNING, logger="edgeinfer"):
        source = open_images([str(tmp_path)])
        frames = read_all(source)
    assert [os.path.basename(f.path) for f in frames] == ["chelsea.png", "coffee.png"]
    assert source.skipped == 1 and "skipping" in caplog.text and "broken.jpg" in caplog.text
    assert frames[0].image.shape == sample_clip.photo("chelsea").shape

    frames = read_all(open_images([str(tmp_path / "c*.png"), str(tmp_path / "chelsea.png")]))
    assert [os.path.basename(f.path) for f in frames] == ["chelsea.png", "coffee.png",
                                                          "chelsea.png"]


@pytest.mark.parametrize("pattern, message", [("missing.jpg", "does not exist"),
                                              ("*.gif", "no files match")])
def test_image_patterns_that_name_nothing(tmp_path, pattern, message):
    with pytest.raises(SourceError, match=message):
        open_images([str(tmp_path / pattern)])


@pytest.mark.skipif(os.path.exists("/dev/video0"), reason="this machine has a camera")
def test_a_missing_camera_says_which_device_and_what_to_try():
    with pytest.raises(SourceError) as error:
        open_camera(0)
    message = str(error.value)
    assert "/dev/video0" in message and "--camera picam" in message and "--video" in message


def test_unreadable_videos(tmp_path):
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 50)
    (tmp_path / "empty.mp4").write_bytes(b"")
    for name in ("text.mp4", "empty.mp4"):
        with pytest.raises(SourceError, match=name):
            open_video(str(tmp_path / name))
    with pytest.raises(SourceError, match="does not exist"):
        open_video(str(tmp_path / "none.mp4"))


def test_streams_need_a_stream_address():
    with pytest.raises(SourceError, match="a file on disk goes to --video"):
        open_stream("clip.mp4")


def test_an_unreachable_stream_says_so_without_the_password():
    with pytest.raises(SourceError) as error:
        open_stream("rtsp://admin:hunter2@127.0.0.1:9/live", backoff=Backoff(attempts=0))
    assert "does not open" in str(error.value) and "hunter2" not in str(error.value)


def test_picam_without_picamera2_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import fails as if not installed
    with pytest.raises(SourceError, match="sudo apt install python3-picamera2"):
        open_picam()


def test_picam_frames_come_through_picamera2(monkeypatch):
    """A stand-in for the picamera2 API, to check the calls edgeinfer makes."""
    calls = []

    class Picamera2:
        def create_video_configuration(self, main):
            calls.append(("config", main["format"], main["size"]))
            return main

        def configure(self, config):
            calls.append("configure")

        def start(self):
            calls.append("start")

        def capture_array(self, stream):
            time.sleep(0.005)
            return np.full((6, 8, 3), 7, np.uint8)

        def stop(self):
            calls.append("stop")

        def close(self):
            calls.append("close")

    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=Picamera2))
    source = open_picam(size=(8, 6))
    frame = source.read(timeout=1.0)
    source.close()
    assert frame.image.shape == (6, 8, 3) and frame.image[0, 0, 0] == 7
    assert calls[:3] == [("config", "RGB888", (8, 6)), "configure", "start"]
    assert calls[-2:] == ["stop", "close"]


def serve(directory):
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_stream_that_ends_is_reopened_then_given_up_when_gone(clip, caplog):
    """A clip served over HTTP stands in for a camera's stream: when it runs out
    the source reconnects; when the server goes away it ends with an error."""
    path, count = clip
    server = serve(os.path.dirname(path))
    url = f"http://127.0.0.1:{server.server_address[1]}/{os.path.basename(path)}"
    with caplog.at_level(logging.WARNING, logger="edgeinfer"):
        source = open_stream(url, backoff=Backoff(first=0.05, attempts=2))
        frames = []
        while not frames or frames[-1].index < count:  # until one from the second play
            frame = source.read(timeout=5.0)
            assert frame is not None
            frames.append(frame)
        server.shutdown()
        server.server_close()
        with pytest.raises(SourceError, match="did not come back after 2 attempts"):
            while True:
                source.read(timeout=5.0)
        source.close()
    assert "reconnecting in 0.1 s (attempt 1 of 2)" in caplog.text and "is back" in caplog.text
    assert source.reconnects >= 1 and frames[-1].index >= count
    assert [f.index for f in frames] == sorted({f.index for f in frames})
