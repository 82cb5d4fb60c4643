"""`edgeinfer run` opens its source (camera, video decoder, image reader) in a
thread while its models load: the source is ready when the model is, errors
are the ones a run without the overlap reports, and a failed load or Ctrl-C
closes what was opened."""
import os
import threading
import time

import pytest

from edgeinfer.cli import main
from edgeinfer.errors import ModelError, SourceError
from edgeinfer.media import DATA_DIR
from edgeinfer.sources import open_images, open_video
from edgeinfer.sources.background import ABANDON_WAIT_S, OpenInBackground
from edgeinfer.sources.capture import CaptureLatest
from test_sources import FakeCamera
from tools import sample_clip

PHOTO = os.path.join(DATA_DIR, "chelsea.jpg")


class Opened:
    """Opens a real source through `open_source`, noting the thread and time."""

    def __init__(self, open_source):
        self.open_source = open_source
        self.source = self.thread = self.at = None

    def __call__(self):
        self.thread, self.at = threading.current_thread(), time.monotonic()
        self.source = self.open_source()
        return self.source


def test_the_source_opens_in_another_thread_while_the_caller_works():
    opened = Opened(lambda: open_images([PHOTO]))
    started = time.monotonic()
    with OpenInBackground(opened) as opening:
        time.sleep(0.3)     # the model's load
    source = opening.result()
    assert opened.thread is not threading.main_thread()
    assert opened.at - started < 0.25
    frame = source.read(timeout=5)
    assert frame is not None and frame.image.shape[2] == 3
    source.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clip") / "clip.avi")
    sample_clip.write_clip(path, (96, 72), frames_per_photo=15, fps=30.0)
    return path


@pytest.mark.parametrize("error", [ModelError("m.onnx is damaged"), KeyboardInterrupt()])
def test_an_error_while_loading_closes_the_opened_source_and_is_the_one_raised(clip, error):
    opened = Opened(lambda: open_video(clip))
    with pytest.raises(type(error)):
        with OpenInBackground(opened):
            raise error
    assert not opened.source._thread.is_alive()    # closed: its reader thread is done


def test_the_source_error_comes_from_result():
    with OpenInBackground(lambda: open_images(["/nonexistent/*.png"])) as opening:
        pass
    with pytest.raises(SourceError, match="nonexistent"):
        opening.result()


def test_a_model_error_wins_over_a_source_error_as_when_the_source_opened_after():
    with pytest.raises(ModelError, match="damaged"):
        with OpenInBackground(lambda: open_images(["/nonexistent/*.png"])):
            raise ModelError("m.onnx is damaged")


def test_frames_a_live_source_replaced_before_the_first_read_are_not_dropped():
    source = CaptureLatest(lambda: FakeCamera(fps=200.0), "fake camera").start()
    time.sleep(0.2)     # the model's load: about 40 frames replaced, none due to anyone
    assert source.dropped > 0
    source.begin_reading()
    assert source.dropped == 0
    assert source.read(timeout=1) is not None
    source.close()


def test_frames_read_ahead_before_the_first_read_wait_from_then(clip):
    """A file's first frames are decoded while the model loads; the time they sat in
    the queue then is no frame's latency."""
    with OpenInBackground(lambda: open_video(clip)) as opening:
        time.sleep(0.3)
    began = time.monotonic()
    source = opening.result()
    frames = [source.read(timeout=5) for _ in range(5)]
    assert all(began <= f.captured <= time.monotonic() for f in frames)
    assert [f.index for f in frames] == list(range(5))
    source.close()


def test_run_with_a_bad_model_and_a_missing_image_reports_the_model(capsys, tmp_path):
    code = main(["run", "--model", str(tmp_path / "absent.onnx"), "--image",
                 str(tmp_path / "missing.png")])
    err = capsys.readouterr().err
    assert code == 2 and "absent.onnx" in err and "does not exist" in err
    assert len(err.strip().splitlines()) == 1


class SlowSource:
    closed = False

    def close(self):
        self.closed = True


def test_a_failed_load_does_not_wait_for_a_source_still_opening():
    """A camera or stream whose open hangs used to hold the model's error (or Ctrl-C)
    until it returned; now the caller waits a little, and the source is closed by
    its own thread once it opens."""
    release, source = threading.Event(), SlowSource()

    def hanging_open():
        release.wait(20)
        return source

    started = time.monotonic()
    with pytest.raises(ModelError):
        with OpenInBackground(hanging_open) as opening:
            raise ModelError("the model would not load")
    assert time.monotonic() - started < ABANDON_WAIT_S + 1.5
    release.set()
    opening._thread.join(5)
    assert source.closed
