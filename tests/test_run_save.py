"""`edgeinfer run --save [DIR]`: a new numbered folder per run with annotated
copies of the images under their own names (or the annotated video of a
video source) and the JSON lines beside them, whole after Ctrl-C; and the
summary naming the model's latency, the queue time of files, the windows of
a sensor run, in the right plural."""
import json
import os
import signal
import subprocess
import sys

import cv2

from edgeinfer.media import DATA_DIR
from test_run_cli import assert_one_line_error, read_jsonl, run, wait_for_lines
from test_sensor_run import model as sensor_model, stream_csv  # noqa: F401 (fixture)
from tools import sample_clip

PHOTOS = ("chelsea.jpg", "coffee.jpg")


def test_save_writes_annotated_images_and_the_json_lines_into_numbered_folders(
        capsys, media, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for number, expected in ((1, "runs/predict"), (2, "runs/predict-2")):
        code, _, err = run(capsys, "-m", media["model"], "--image", DATA_DIR, "--save", "-q")
        assert code == 0, err
        assert f"saved: {expected}" in err.splitlines()[-1]
    folder = tmp_path / "runs" / "predict-2"
    assert sorted(os.listdir(folder)) == sorted(PHOTOS + ("predictions.jsonl", "run.json"))
    records = read_jsonl(folder / "predictions.jsonl")
    assert [r["label"] for r in records] == ["cat", "coffee"]
    for name in PHOTOS:
        original = cv2.imread(os.path.join(DATA_DIR, name))
        annotated = cv2.imread(str(folder / name))
        assert annotated.shape == original.shape  # same size, no stretching
        # the labels are drawn in the top-left corner; the rest is the photo (JPEG noise aside)
        corner = cv2.absdiff(original[:20, :80], annotated[:20, :80]).mean()
        rest = cv2.absdiff(original[100:], annotated[100:]).mean()
        assert corner > 15 and corner > 5 * rest
    facts = json.loads((folder / "run.json").read_text())
    assert facts["models"][0]["provider"] == "CPUExecutionProvider"
    assert facts["summary"]["classified"] == 2


def test_save_into_a_named_folder_keeps_two_files_of_the_same_name(capsys, media, tmp_path):
    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        cv2.imwrite(str(tmp_path / side / "photo.png"), sample_clip.photo("coffee"))
    code, _, err = run(capsys, "-m", media["model"], "--image", tmp_path / "a", tmp_path / "b",
                       "--save", tmp_path / "out", "-q")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "out" / "predict")) == [
        "photo-2.png", "photo.png", "predictions.jsonl", "run.json"]


def test_save_of_a_video_writes_the_annotated_video_beside_the_json_lines(
        capsys, media, tmp_path):
    code, _, err = run(capsys, "-m", media["model"], "--video", media["clip"],
                       "--save", tmp_path, "-q")
    assert code == 0, err
    folder = tmp_path / "predict"
    capture, frames = cv2.VideoCapture(str(folder / "clip.mp4")), 0
    while capture.read()[0]:
        frames += 1
    assert frames == len(media["clip_labels"])
    assert [r["label"] for r in read_jsonl(folder / "predictions.jsonl")] == media["clip_labels"]


def test_save_in_place_of_a_file_is_one_line(capsys, media, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    code, _, err = run(capsys, "-m", media["model"], "--image", DATA_DIR, "--save", taken)
    assert_one_line_error(code, err, "--save", "taken")


def test_ctrl_c_mid_save_leaves_a_playable_video_and_whole_lines(media, tmp_path):
    long_clip = str(tmp_path / "long.avi")
    sample_clip.write_clip(long_clip, (96, 72), frames_per_photo=150, fps=30.0)  # 10 s
    process = subprocess.Popen(
        [sys.executable, "-m", "edgeinfer", "run", "-m", media["model"], "--video", long_clip,
         "--realtime", "--save", str(tmp_path / "runs"), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = tmp_path / "runs" / "predict"
    try:
        wait_for_lines(folder / "predictions.jsonl", 5)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 130 and "Traceback" not in err
    records = read_jsonl(folder / "predictions.jsonl")
    capture, frames = cv2.VideoCapture(str(folder / "long.mp4")), 0
    while capture.read()[0]:
        frames += 1
    assert frames >= len(records) >= 5
    assert json.loads((folder / "run.json").read_text())["stopped"] == "SIGINT"


def test_one_image_is_one_frame_and_the_model_latency_comes_first(capsys, media):
    code, out, err = run(capsys, "-m", media["model"], "--image",
                         os.path.join(DATA_DIR, "coffee.jpg"))
    assert code == 0
    assert "1 frame, 1 classified" in err
    table = err.splitlines()[3:]  # the header, the counts, the column names, then the rows
    assert table[0].split()[0] == "model" and "latency" in table[0]
    queued = next(line for line in table if line.split()[0] == "queued")
    assert "not latency" in queued and "end-to-end" not in err
    assert "| model " in out and ", queued " in out and "latency" not in out


def test_a_sensor_run_speaks_of_windows_not_frames(sensor_model, tmp_path, capsys):  # noqa: F811
    stream = stream_csv(tmp_path / "s.csv", ["ax", "ay", "az"])
    code, _, err = run(capsys, "-m", sensor_model, "--sensor", stream, "-q")
    assert code == 0, err
    summary = next(line for line in err.splitlines() if "classified" in line)
    assert summary.split(": ", 1)[1].startswith("3 windows, 3 classified")
    assert summary.endswith("windows/s") and "frame" not in summary and "FPS" not in summary


def test_top_k_defaults_to_the_library_default(capsys, tmp_path):
    from edgeinfer.run.postprocess import DEFAULT_TOP_K
    from tools import tiny_models

    labels = [f"c{i}" for i in range(8)]
    path = tiny_models.save(tiny_models.random_classifier(labels, size=(32, 32)),
                            tmp_path / "eight.onnx")
    out_json = tmp_path / "r.jsonl"
    code, _, err = run(capsys, "-m", path, "--image", os.path.join(DATA_DIR, "chelsea.jpg"),
                       "--json", out_json, "--threads", "all")
    assert code == 0, err
    record, = read_jsonl(out_json)
    assert len(record["top"]) == DEFAULT_TOP_K
    cores = os.cpu_count()
    assert f"on cpu, {cores} thread{'s' if cores > 1 else ''})" in err.splitlines()[0]


def test_a_sensor_stream_on_stdin_is_timed_end_to_end(sensor_model, tmp_path):  # noqa: F811
    from test_sensor_run import run_stdin

    data = open(stream_csv(tmp_path / "s.csv", ["ax", "az"]), "rb").read()
    records, _ = run_stdin(sensor_model, data)
    assert [r["label"] for r in records] == ["ax", "az"]
    for record in records:  # a live stream's wait is part of how late its result is
        assert "queued_ms" not in record
        assert record["latency_ms"]["end_to_end"] >= record["latency_ms"]["model"] > 0
