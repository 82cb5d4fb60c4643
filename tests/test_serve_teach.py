"""The Teach panel's API on a real server playing the sample clip in real time:
live frames recorded per label into the data folder as `collect` writes them,
a head trained on them in the background and served beside the base model
without a restart (in /api/models, the stream's records, posted images), and
each refusal with its status and one line."""
import contextlib
import json
import os
import shutil
import threading
import time

import cv2
import httpx
import pytest

import edgeinfer
from edgeinfer.media import DATA_DIR
from edgeinfer.sources import open_video
from serve_server import parts_for, serving, wait_for
from test_serve_api import assert_error
from tools import sample_clip

CAT = os.path.join(DATA_DIR, "chelsea.jpg")
COFFEE = os.path.join(DATA_DIR, "coffee.jpg")
FRAMES_PER_PHOTO = 120   # 4 s of cat then 4 s of coffee at 30 frames a second


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("teach") / "clip.mp4")
    sample_clip.write_clip(path, (160, 120), FRAMES_PER_PHOTO, fps=30.0)
    return path


@contextlib.contextmanager
def teaching(media, clip, teach_dir, before_load=None):
    """A server playing the clip in real time, teaching into teach_dir;
    before_load() runs on the training thread before it loads the new model."""
    def load(path):
        if before_load is not None:
            before_load()
        return edgeinfer.load(path, threads=1)

    parts = parts_for([media["model"]], open_video(clip, realtime=True), top_k=2,
                      teach_dir=str(teach_dir), load=load)
    with serving(parts) as url:
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client, parts


def post_image(client, path):
    with open(path, "rb") as f:
        return client.post("/api/predict", content=f.read(),
                           headers={"Content-Type": "image/jpeg"})


def trained(client, seconds=30):
    wait_for(lambda: client.get("/api/teach").json()["training"] is None, seconds,
             what="the training to finish")
    return client.get("/api/teach").json()["last"]


def record_with(client, name, seconds=5):
    """The first stream record that holds model `name`'s answer."""
    deadline = time.monotonic() + seconds
    with client.stream("GET", "/api/stream", timeout=seconds) as events:
        for line in events.iter_lines():
            if line.startswith("data: "):
                record = json.loads(line[len("data: "):])
                if name in [m["model"] for m in record.get("models", [])]:
                    return record
            assert time.monotonic() < deadline, f"no record of {name} in the stream"


def test_recorded_frames_train_a_model_served_beside_the_base(media, clip, tmp_path):
    data = tmp_path / "teach"
    # a sample from before this server: kept, and numbering goes on after it
    kept = data / "kitty" / "0003.png"
    kept.parent.mkdir(parents=True)
    cat_view = next(sample_clip.clip_frames((160, 120), 1, ["chelsea"]))[0]
    cv2.imwrite(str(kept), cat_view)
    before = kept.read_bytes()
    with teaching(media, clip, data) as (client, parts):
        assert client.get("/api/teach").json()["labels"] == {"kitty": 1}
        # the clip opens on the cat
        saved = client.post("/api/teach/samples?label=kitty&count=5")
        assert saved.status_code == 200, saved.text
        assert saved.json()["saved"] == [f"{n:04d}.png" for n in range(4, 9)]
        wait_for(lambda: client.get("/api/latest").json()["label"] == "coffee", seconds=10,
                 what="the clip to reach the coffee")
        assert client.post("/api/teach/samples?label=mug").json()["saved"] == ["0001.png"]
        answer = client.post("/api/teach/samples?label=mug&count=5").json()
        assert answer["labels"] == {"kitty": 6, "mug": 6}
        assert kept.read_bytes() == before
        assert all(cv2.imread(str(data / "mug" / f"{n:04d}.png")).shape == (120, 160, 3)
                   for n in range(1, 7))

        started = client.post("/api/teach/train?head=softmax")
        assert started.status_code == 202 and started.json()["training"]["head"] == "softmax"
        last = trained(client)
        assert last["ok"] and last["model"] == "personal-softmax", last
        assert last["labels"] == ["kitty", "mug"]
        assert (data / "personal-softmax.onnx").is_file()
        assert [m["name"] for m in client.get("/api/models").json()] == \
            ["photo", "personal-softmax"]
        # the live run answers with both, without a restart
        record = record_with(client, "personal-softmax")
        assert [m["model"] for m in record["models"]] == ["photo", "personal-softmax"]
        assert parts.live.running
        for photo, generic, personal in ((CAT, "cat", "kitty"), (COFFEE, "coffee", "mug")):
            models = post_image(client, photo).json()["models"]
            assert [m["label"] for m in models] == [generic, personal]

        # training the same head again replaces its model; another head is added beside
        client.post("/api/teach/train?head=softmax")
        assert trained(client)["ok"]
        client.post("/api/teach/train?head=knn")
        assert trained(client)["model"] == "personal-knn"
        assert [m["name"] for m in client.get("/api/models").json()] == \
            ["photo", "personal-softmax", "personal-knn"]

        # forgetting a label removes what this server recorded of it, nothing older
        removed = client.delete("/api/teach/samples?label=kitty").json()
        assert removed["removed"] == 5 and removed["labels"] == {"kitty": 1, "mug": 6}
        assert sorted(os.listdir(data / "kitty")) == ["0003.png"]
        assert kept.read_bytes() == before


@pytest.mark.parametrize("label", ["../up", "a/b", ".hidden", " padded", ""])
def test_a_label_that_is_not_a_folder_name_is_400(media, clip, tmp_path, label):
    with teaching(media, clip, tmp_path / "teach") as (client, _):
        assert_error(client.post("/api/teach/samples", params={"label": label}), 400,
                     "folder name")
        assert_error(client.delete("/api/teach/samples", params={"label": label}), 400,
                     "folder name")
    assert not (tmp_path / "teach").exists() and not (tmp_path / "up").exists()


def test_a_bad_count_or_head_is_400(media, clip, tmp_path):
    with teaching(media, clip, tmp_path / "teach") as (client, _):
        for count in ("0", "101", "two"):
            assert_error(client.post(f"/api/teach/samples?label=a&count={count}"), 400, "count")
        assert_error(client.post("/api/teach/train?head=forest"), 400, "unknown head",
                     "softmax")


def test_training_without_two_labels_is_400(media, clip, tmp_path):
    with teaching(media, clip, tmp_path / "teach") as (client, _):
        assert_error(client.post("/api/teach/train"), 400, "not enough samples", "none")
        client.post("/api/teach/samples?label=mug&count=3")
        assert_error(client.post("/api/teach/train"), 400, "two labels", "mug: 3")
        assert client.get("/api/teach").json()["last"] is None


def test_training_twice_at_once_is_409(media, clip, tmp_path):
    # the first training is held before its swap until the second request has been
    # answered, so "at once" does not depend on how fast training is
    second_answered = threading.Event()
    with teaching(media, clip, tmp_path / "teach",
                  before_load=lambda: second_answered.wait(30)) as (client, _):
        for label in ("a", "b"):
            client.post(f"/api/teach/samples?label={label}&count=10")
        assert client.post("/api/teach/train").status_code == 202
        try:
            assert_error(client.post("/api/teach/train?head=knn"), 409, "being trained")
        finally:
            second_answered.set()
        assert trained(client)["ok"]
        assert [m["name"] for m in client.get("/api/models").json()] == \
            ["photo", "personal-softmax"]


def test_recording_after_the_source_ended_is_409(media, tmp_path):
    short = str(tmp_path / "short.mp4")
    sample_clip.write_clip(short, (160, 120), 2, fps=30.0)
    with teaching(media, short, tmp_path / "teach") as (client, parts):
        wait_for(lambda: not parts.live.running, what="the clip to end")
        assert_error(client.post("/api/teach/samples?label=a"), 409, "ended")


def test_teach_is_absent_without_a_live_image_source(media, tmp_path):
    from edgeinfer import load
    from edgeinfer.sensor.stream import open_sensor_windows
    from test_sensor_run import CHANNELS, stream_csv
    from tools import tiny_models

    sensor = tiny_models.save(tiny_models.sensor_channel_means(CHANNELS, window=8, hop=8),
                              tmp_path / "sensor.onnx")
    stream = stream_csv(tmp_path / "s.csv", ["ax", "ay"])
    loader = {"teach_dir": str(tmp_path / "teach"), "load": edgeinfer.load}
    for parts in (parts_for([media["model"]], **loader),
                  parts_for([sensor], open_sensor_windows(stream, load(sensor).info.sensor),
                            **loader)):
        assert parts.teacher is None
        with serving(parts) as url, httpx.Client(base_url=url) as client:
            assert_error(client.get("/api/teach"), 404, "no camera or video")
            assert_error(client.post("/api/teach/samples?label=a"), 404, "no camera or video")
            assert_error(client.post("/api/teach/train"), 404, "no camera or video")
    assert not (tmp_path / "teach").exists()


def test_the_data_folder_is_made_on_first_use(media, clip, tmp_path):
    data = tmp_path / "deeper" / "teach"
    with teaching(media, clip, data) as (client, _):
        assert client.get("/api/teach").json()["labels"] == {}
        assert not data.exists()
        assert client.post("/api/teach/samples?label=a").status_code == 200
        assert sorted(os.listdir(data / "a")) == ["0001.png"]
    shutil.rmtree(data)


def test_serve_teach_dir_holds_what_the_page_records_and_trains(media, clip, tmp_path):
    from tools.serve_process import start_serving

    data = tmp_path / "samples"
    process, url, _ = start_serving("-m", media["model"], "--video", clip, "--realtime",
                                    "--teach-dir", data)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/api/teach").json()["folder"] == str(data)
            for label in ("a", "b"):
                assert client.post(f"/api/teach/samples?label={label}&count=3").status_code \
                    == 200
            assert client.post("/api/teach/train?head=ncm").status_code == 202
            assert trained(client)["model"] == "personal-ncm"
            assert [m["name"] for m in client.get("/api/models").json()] == \
                ["photo", "personal-ncm"]
    finally:
        process.kill()
        process.communicate(timeout=15)
    assert sorted(os.listdir(data)) == ["a", "b", "personal-ncm.onnx"]


def test_a_second_recording_while_one_runs_is_409(media, clip, tmp_path):
    with teaching(media, clip, tmp_path / "teach") as (client, parts):
        first = []
        # 60 frames of a clip played at 30 a second: two seconds under way
        recording = threading.Thread(target=lambda: first.append(
            client.post("/api/teach/samples?label=a&count=60")))
        recording.start()
        try:
            wait_for(lambda: parts.teacher.tap.recordings, what="the first recording to start")
            assert_error(client.post("/api/teach/samples?label=b&count=1"), 409,
                         "recording is under way")
        finally:
            recording.join()
        assert first[0].status_code == 200 and len(first[0].json()["saved"]) == 60
        # once it is done, the next may record
        assert client.post("/api/teach/samples?label=b&count=1").status_code == 200


def test_training_that_fails_at_once_still_answers_202_with_its_start(media, clip, tmp_path):
    data = tmp_path / "teach"
    for label in ("a", "b"):
        (data / label).mkdir(parents=True)
        cv2.imwrite(str(data / label / "0001.png"),
                    next(sample_clip.clip_frames((160, 120), 1, ["chelsea"]))[0])
    with teaching(media, clip, data) as (client, parts):
        # a base that cannot be read: the training thread ends (and clears the
        # training) at once, possibly before the request has its answer
        parts.teacher.base = str(tmp_path / "missing.onnx")
        for _ in range(5):
            started = client.post("/api/teach/train")
            assert started.status_code == 202, started.text
            assert started.json()["training"] == {"head": "softmax", "done": 0, "total": 2}
            last = trained(client)
            assert last["ok"] is False and "\n" not in last["error"]
