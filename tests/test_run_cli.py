"""`edgeinfer run` end to end on real files: the labels a fitted model gives on
the bundled photos and a clip panning across them, exact frame counts in the
JSON/CSV output, the summary, Ctrl-C/SIGTERM mid-run, and every error path as
one line with exit status 2."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import cv2
import pytest

from edgeinfer.cli import main
from edgeinfer.media import DATA_DIR
from tools import sample_clip, tiny_models

MODEL_TIMES = ("model", "preprocess", "inference", "postprocess")
STAGES = MODEL_TIMES[1:]


def run(capsys, *argv):
    code = main(["run", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def assert_one_line_error(code, err, *words):
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("edgeinfer run: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


def test_images_folder_labels_the_real_photos(capsys, media, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("chelsea", "coffee"):
        cv2.imwrite(str(folder / f"{name}.jpg"), sample_clip.photo(name))
    (folder / "zz-broken.png").write_bytes(b"\x89PNG this is not an image")
    out_json = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "--model", media["model"], "--image", folder, "--json", out_json)
    assert code == 0
    records = read_jsonl(out_json)
    assert [os.path.basename(r["file"]) for r in records] == ["chelsea.jpg", "coffee.jpg"]
    assert [r["label"] for r in records] == [media["truth"]["chelsea"], media["truth"]["coffee"]]
    for record in records:
        assert record["score"] > 0.5 and record["top"][0]["label"] == record["label"]
        # a file's queue time is apart, not part of any latency
        assert set(record["latency_ms"]) == set(MODEL_TIMES) and record["queued_ms"] >= 0
        assert record["result_at"] >= record["captured_at"]
    assert "skipping" in err and "zz-broken.png" in err and "1 skipped" in err
    assert out.splitlines()[0].split("  ", 1)[1].startswith("chelsea.jpg  cat ")


def test_video_every_frame_in_order_with_correct_labels(capsys, media, tmp_path):
    out_json, out_csv = tmp_path / "v.jsonl", tmp_path / "v.csv"
    code, out, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                         "--json", out_json, "--csv", out_csv, "--top-k", 2)
    assert code == 0
    records = read_jsonl(out_json)
    count = len(media["clip_labels"])
    assert [r["frame"] for r in records] == list(range(count))
    assert [r["label"] for r in records] == media["clip_labels"]
    assert all(len(r["top"]) == 2 for r in records)
    assert records[1]["position_s"] == pytest.approx(1 / 15.0, abs=1e-3)
    for record in records:  # the split accounts for the model's whole latency
        split = record["latency_ms"]
        assert split["model"] == pytest.approx(sum(split[s] for s in STAGES), abs=0.01)
        assert (record["result_at"] - record["captured_at"]) * 1e3 == pytest.approx(
            split["model"] + record["queued_ms"], abs=0.01)
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["frame"]) for r in rows] == list(range(count))
    assert [r["label"] for r in rows] == media["clip_labels"]
    for row, record in zip(rows, records):
        assert float(row["score"]) == pytest.approx(record["score"], abs=1e-6)
        assert float(row["inference_ms"]) == pytest.approx(record["latency_ms"]["inference"],
                                                           abs=1e-3)
    assert len(out.splitlines()) == count
    assert f"{count} frames, {count} classified, 0 dropped" in err
    for stage in STAGES:
        assert f"    {stage} " in err
    assert "  model " in err and "  queued " in err and "not latency" in err


def test_every_max_frames_threshold_and_labels_override(capsys, media, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("tabby\nespresso\n")
    out_json = tmp_path / "e.jsonl"
    code, out, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                         "--every", 3, "--max-frames", 20, "--labels", labels,
                         "--threshold", 0.5, "--json", out_json, "--quiet")
    assert code == 0 and out == ""
    records = read_jsonl(out_json)
    assert [r["frame"] for r in records] == [0, 3, 6, 9, 12, 15, 18]
    renamed = {"cat": "tabby", "coffee": "espresso"}
    assert [r["label"] for r in records] == [renamed[media["clip_labels"][r["frame"]]]
                                            for r in records]
    assert all(len(r["top"]) == 1 for r in records)  # the other class scores below 0.5
    assert "20 frames, 7 classified" in err


def test_save_video_burns_the_overlay_into_every_frame(capsys, media, tmp_path):
    saved = tmp_path / "labelled.avi"
    code, _, _ = run(capsys, "--model", media["model"], "--video", media["clip"],
                     "--save-video", saved, "--quiet", "--every", 4)
    assert code == 0
    original, labelled = cv2.VideoCapture(media["clip"]), cv2.VideoCapture(str(saved))
    count = 0
    while True:
        ok_a, a = original.read()
        ok_b, b = labelled.read()
        assert ok_a == ok_b
        if not ok_a:
            break
        assert a.shape == b.shape
        # the label box sits in the top-left corner; the rest of the frame is untouched
        # (both went through lossy codecs, so "untouched" means only codec noise)
        corner = cv2.absdiff(a[:20, :60], b[:20, :60]).mean()
        rest = cv2.absdiff(a[60:], b[60:]).mean()
        assert corner > 30 and corner > 3 * rest
        count += 1
    assert count == len(media["clip_labels"])


def test_smoothing_holds_the_label_across_the_cut(capsys, media, tmp_path):
    out_json = tmp_path / "s.jsonl"
    code, _, _ = run(capsys, "--model", media["model"], "--video", media["clip"],
                     "--smoothing", 9, "--json", out_json, "--quiet")
    assert code == 0
    labels = [r["label"] for r in read_jsonl(out_json)]
    cut = media["clip_labels"].index("coffee")
    # averaging over 9 frames, the old label outlives the cut by a few frames
    assert labels[:cut] == media["clip_labels"][:cut]
    assert labels[cut] == "cat" and labels[-1] == "coffee"


def wait_for_lines(path, count, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path):
            with open(path) as f:
                if sum(1 for _ in f) >= count:
                    return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {count} lines")


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_prints_the_summary_and_keeps_every_line(media, tmp_path, signum, code):
    long_clip = str(tmp_path / "long.avi")
    sample_clip.write_clip(long_clip, (96, 72), frames_per_photo=150, fps=30.0)  # 10 s
    out_json = tmp_path / "live.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "edgeinfer", "run", "--model", media["model"], "--video",
         long_clip, "--realtime", "--json", str(out_json)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lines(out_json, 5)
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == code, err
    assert "Traceback" not in err
    name = signal.Signals(signum).name
    assert f"stopped ({name}) after" in err and "  model " in err
    records = read_jsonl(out_json)  # every line whole JSON
    assert 5 <= len(records) < 300
    assert len(out.splitlines()) == len(records)
    summary = next(line for line in err.splitlines() if "classified" in line)
    assert f"{len(records)} classified" in summary


@pytest.mark.skipif(os.path.exists("/dev/video0"), reason="this machine has a camera")
def test_missing_camera(capsys, media):
    code, _, err = run(capsys, "--model", media["model"], "--camera", 0)
    assert_one_line_error(code, err, "/dev/video0", "--video")


@pytest.mark.skipif(os.path.exists("/dev/video0"), reason="this machine has a camera")
def test_no_source_falls_back_to_camera_0_then_says_what_to_give(capsys, media):
    code, _, err = run(capsys, "--model", media["model"])
    assert_one_line_error(code, err, "no source given", "--video FILE", "--image")


def test_model_errors(capsys, media, tmp_path):
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(open(media["model"], "rb").read()[:300])
    code, _, err = run(capsys, "--model", corrupt, "--video", media["clip"])
    assert_one_line_error(code, err, "corrupt.onnx", "convert it again")

    code, _, err = run(capsys, "--model", tmp_path / "absent.onnx", "--video", media["clip"])
    assert_one_line_error(code, err, "absent.onnx", "does not exist")

    code, _, err = run(capsys, "--video", media["clip"])
    assert_one_line_error(code, err, "--model is required")

    wrong = tiny_models.random_classifier(["a", "b"], size=(32, 32))
    tiny_models.write_info(wrong, tiny_models.image_info(["a", "b"], (64, 64)))
    path = tiny_models.save(wrong, tmp_path / "wrong.onnx")
    code, _, err = run(capsys, "--model", path, "--video", media["clip"])
    assert_one_line_error(code, err, "wrong.onnx", "[?, 3, 32, 32]")


def test_source_and_option_errors(capsys, media, tmp_path, monkeypatch):
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("hello\n" * 100)
    code, _, err = run(capsys, "--model", media["model"], "--video", not_video)
    assert_one_line_error(code, err, "notes.mp4", "cannot be opened")

    code, _, err = run(capsys, "--model", media["model"], "--image", tmp_path / "x.jpg")
    assert_one_line_error(code, err, "x.jpg", "does not exist")

    monkeypatch.setitem(sys.modules, "picamera2", None)
    code, _, err = run(capsys, "--model", media["model"], "--camera", "picam")
    assert_one_line_error(code, err, "picamera2")

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out_json = tmp_path / "never.jsonl"
    code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"], "--show",
                       "--json", out_json)
    assert_one_line_error(code, err, "--show needs a display", "--save-video")
    assert not out_json.exists()  # nothing half-made is left behind

    monkeypatch.setenv("DISPLAY", ":93")  # names an X server that is not running
    code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"], "--show")
    assert_one_line_error(code, err, "no X server answers at DISPLAY=:93")

    for flag, value, words in [("--every", 0, "--every must be at least 1"),
                               ("--threshold", 2, "--threshold is a probability"),

                               ("--realtime", None, "--realtime paces a video file")]:
        extra = [flag] if value is None else [flag, value]
        code, _, err = run(capsys, "--model", media["model"], "--image",
                           os.path.join(DATA_DIR, "chelsea.jpg"), *extra)
        assert_one_line_error(code, err, words)
    code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                       "--save-video", tmp_path / "out.gif")
    assert_one_line_error(code, err, "--save-video writes")


def test_a_sample_image_in_one_command(capsys, media):
    code, out, err = run(capsys, "--model", media["model"], "--image",
                         os.path.join(DATA_DIR, "coffee.jpg"), "--top-k", 1)
    assert code == 0
    clock, rest = out.split("  ", 1)
    assert time.strptime(clock.split(".")[0], "%H:%M:%S") and rest.startswith("coffee.jpg  coffee ")
    assert "1 frame, 1 classified, 0 dropped" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_ends_the_run_with_the_summary_and_one_error_line(capsys, media, tmp_path):
    code, _, err = run(capsys, "--model", media["model"], "--video", media["clip"], "--quiet",
                       "--csv", tmp_path / "ok.csv", "--json", "/dev/full")
    assert code == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == ("edgeinfer run: cannot write to /dev/full: No space left on "
                                    "device; the lines before this one are complete")
    assert "  model " in err  # the summary still came out
    with open(tmp_path / "ok.csv") as f:
        assert f.readline().startswith("frame,")  # the other file is closed, whole


def test_json_lines_to_standard_output_for_other_programs(capsys, media):
    code, out, err = run(capsys, "--model", media["model"], "--video", media["clip"],
                         "--json", "-", "--max-frames", 5)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]  # nothing but JSON on stdout
    assert [r["frame"] for r in records] == [0, 1, 2, 3, 4]
    assert "5 frames, 5 classified" in err


def test_a_reader_that_goes_away_ends_the_run_quietly(media, tmp_path):
    # more lines than a pipe buffers (64 KiB), so the writer is still at work when head exits
    clip = str(tmp_path / "many.avi")
    sample_clip.write_clip(clip, (64, 48), frames_per_photo=200, fps=30.0)
    process = subprocess.run(
        f"{sys.executable} -m edgeinfer run --model {media['model']} --video {clip} "
        "--json - | head -n 2", shell=True, capture_output=True, text=True, timeout=60)
    assert len(process.stdout.splitlines()) == 2
    assert "Traceback" not in process.stderr and "BrokenPipe" not in process.stderr
    assert "stopped (output closed)" in process.stderr


class FakeVideoCapture:
    """Stands in for cv2.VideoCapture on a V4L2 camera: the bundled cat photo at
    about 100 frames per second, after which it can be told to go dark."""
    opened = []
    go_dark_after = None

    def __init__(self, target, api=None):
        self.target, self.api, self.settings, self.reads = target, api, {}, 0
        FakeVideoCapture.opened.append(self)

    def isOpened(self):
        return True

    def set(self, prop, value):
        self.settings[prop] = value
        return True

    def get(self, prop):
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self):
        time.sleep(0.01)
        self.reads += 1
        dark = self.go_dark_after is not None and len(self.opened) == 1 and \
            self.reads > self.go_dark_after
        return (False, None) if dark else (True, sample_clip.photo("chelsea"))

    def release(self):
        pass


def test_a_camera_end_to_end_through_a_stand_in_device(capsys, media, tmp_path, monkeypatch):
    import edgeinfer.sources.camera as camera

    FakeVideoCapture.opened, FakeVideoCapture.go_dark_after = [], 8
    real_exists = os.path.exists
    monkeypatch.setattr(camera.os.path, "exists",
                        lambda p: p == "/dev/video0" or real_exists(p))
    monkeypatch.setattr(cv2, "VideoCapture", FakeVideoCapture)
    out_json = tmp_path / "camera.jsonl"
    code, out, err = run(capsys, "--model", media["model"], "--camera", 0, "--max-frames", 20,
                         "--json", out_json)
    assert code == 0
    first = FakeVideoCapture.opened[0]
    assert first.target == 0 and first.api == cv2.CAP_V4L2
    assert first.settings[cv2.CAP_PROP_BUFFERSIZE] == 1  # the driver keeps one frame, not four
    # it went dark after 8 frames and was reopened: the run went on to 20 frames
    assert len(FakeVideoCapture.opened) == 2
    assert "camera 0 (/dev/video0) stopped delivering frames; reconnecting" in err
    records = read_jsonl(out_json)
    assert len(records) == 20 and {r["label"] for r in records} == {"cat"}
    # a live source: the frame's age and the end-to-end figure, no queue
    assert all(r["latency_ms"]["wait"] < 50 and "queued_ms" not in r for r in records)
    assert all(r["latency_ms"]["end_to_end"] >= r["latency_ms"]["model"] for r in records)
    assert "20 frames, 20 classified" in err and out.split("  ")[1].startswith("frame ")


def test_save_video_refuses_images_and_points_to_save(capsys, media, tmp_path):
    # it made a 0.13 s clip of the photos, each stretched to the first one's size
    saved = tmp_path / "photos.avi"
    code, _, err = run(capsys, "--model", media["model"], "--image", DATA_DIR, "--quiet",
                       "--save-video", saved)
    assert_one_line_error(code, err, "--save-video", "--save [DIR]")
    assert not saved.exists()


def test_a_camera_that_opens_but_gives_no_frames_points_to_picam(capsys, media, monkeypatch):
    import edgeinfer.sources.camera as camera

    FakeVideoCapture.opened, FakeVideoCapture.go_dark_after = [], 0
    real_exists = os.path.exists
    monkeypatch.setattr(camera.os.path, "exists",
                        lambda p: p == "/dev/video0" or real_exists(p))
    monkeypatch.setattr(cv2, "VideoCapture", FakeVideoCapture)
    code, _, err = run(capsys, "--model", media["model"], "--camera", 0)
    assert_one_line_error(code, err, "camera 0 (/dev/video0) opens but delivers no frames",
                          "--camera picam")
    assert len(FakeVideoCapture.opened) == 1  # no reconnection loop before saying so
