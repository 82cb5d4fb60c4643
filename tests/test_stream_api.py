"""The Python side of a run: `edgeinfer.stream` yields the records `run`
writes (same labels, same JSON), from a named or an opened source, and ends
cleanly when the loop breaks; `Model.predict` takes image paths as well as
arrays; the library's top-k default everywhere."""
import json
import os

import numpy as np
import pytest

import edgeinfer
from edgeinfer.errors import UserError
from edgeinfer.media import DATA_DIR, read_image
from edgeinfer.run.postprocess import DEFAULT_TOP_K
from edgeinfer.sources import open_video
from test_run_cli import read_jsonl, run
from test_sensor_run import model as sensor_model, stream_csv  # noqa: F401 (fixture)

PHOTOS = [os.path.join(DATA_DIR, name) for name in ("chelsea.jpg", "coffee.jpg")]
WHEN = ("captured_at", "result_at", "latency_ms", "queued_ms")


def _what(record):
    return {k: v for k, v in record.items() if k not in WHEN}


def test_stream_of_a_video_yields_what_run_writes(capsys, media, tmp_path):
    out_json = tmp_path / "run.jsonl"
    assert run(capsys, "-m", media["model"], "--video", media["clip"], "--json", out_json,
               "-q")[0] == 0
    streamed = [result.to_dict() for result in edgeinfer.stream(media["model"],
                                                                video=media["clip"])]
    assert [_what(r) for r in streamed] == [_what(r) for r in read_jsonl(out_json)]
    assert [r["label"] for r in streamed] == media["clip_labels"]
    assert all(len(r["top"]) == 2 for r in streamed)  # the two classes there are (k = 5)


def test_stream_of_images_from_a_loaded_model_and_an_opened_source(media):
    model = edgeinfer.load(media["model"])
    labels = [result.top.label for result in edgeinfer.stream(model, image=DATA_DIR)]
    assert labels == [media["truth"]["chelsea"], media["truth"]["coffee"]]
    source = open_video(media["clip"])
    results = list(edgeinfer.stream(model, source, every=4, max_frames=9))
    assert [result.frame for result in results] == [0, 4, 8]
    assert all(result.timings_ms["model"] > 0 for result in results)


class ClosingWatched:
    """A real video source that notes when it is closed."""

    def __init__(self, source):
        self.source, self.closed = source, False
        self.live, self.description = source.live, source.description

    def read(self, timeout=None):
        return self.source.read(timeout)

    @property
    def finished(self):
        return self.source.finished

    def close(self):
        self.closed = True
        self.source.close()


def test_breaking_out_of_the_loop_closes_the_source(media):
    source = ClosingWatched(open_video(media["clip"]))
    for result in edgeinfer.stream(media["model"], source):
        break
    assert result.frame == 0 and source.closed


def test_a_stream_never_iterated_still_closes_its_source(media):
    source = ClosingWatched(open_video(media["clip"]))
    with edgeinfer.stream(media["model"], source):
        pass
    assert source.closed


def test_stream_of_a_sensor_file_yields_windows(sensor_model, tmp_path):  # noqa: F811
    path = stream_csv(tmp_path / "s.csv", ["az", "ax"])
    results = list(edgeinfer.stream(sensor_model, sensor=path, top_k=1))
    assert [(r.top.label, len(r.predictions)) for r in results] == [("az", 1), ("ax", 1)]
    assert json.dumps(results[0].to_dict())  # as the JSON lines have it


def test_stream_errors_come_from_the_call_not_the_first_step(media, tmp_path):
    with pytest.raises(UserError, match="absent.mp4"):
        edgeinfer.stream(media["model"], video=str(tmp_path / "absent.mp4"))
    with pytest.raises(ValueError, match="name one source"):
        edgeinfer.stream(media["model"], video=media["clip"], image=DATA_DIR)


def test_predict_takes_a_path_and_a_list_of_paths(media):
    model = edgeinfer.load(media["model"])
    one = model.predict(PHOTOS[1])
    assert one[0].label == "coffee" and len(one) == min(DEFAULT_TOP_K, 2)
    both = model.predict(PHOTOS)
    assert [answer[0].label for answer in both] == ["cat", "coffee"]
    mixed = model.predict([read_image(PHOTOS[0]), PHOTOS[1]])
    assert [answer[0].label for answer in mixed] == ["cat", "coffee"]
    assert np.isclose(mixed[0][0].score, both[0][0].score)
    with pytest.raises(UserError, match="does not exist"):
        model.predict(os.path.join(DATA_DIR, "absent.jpg"))
