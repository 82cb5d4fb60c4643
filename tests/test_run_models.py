"""Several models side by side: `edgeinfer run --model A --model B` end to end
on real files. Each frame (or sensor window) goes through every model; one
console line, one JSON record with a result per model, CSV rows per model, the
overlay stacked; models that cannot share a source are refused in one line."""
import csv
import os

import cv2
import pytest

from edgeinfer.media import DATA_DIR
from tools import sample_clip, tiny_models
from conftest import MEDIA_SIZE
from test_run_cli import assert_one_line_error, read_jsonl, run

# the second model knows the same two photos under other names
RENAMED = {"cat": "kitty", "coffee": "mug"}
CHANNELS = ("ax", "ay", "az")


@pytest.fixture(scope="module")
def personal(media):
    """A second photo model, seeded differently, calling cat "kitty" and coffee "mug"."""
    views = {RENAMED[label]: [f for f, _ in sample_clip.clip_frames(MEDIA_SIZE, 8, [photo])]
             for label, photo in (("cat", "chelsea"), ("coffee", "coffee"))}
    return tiny_models.save(tiny_models.photo_classifier(views, seed=7),
                            media["root"] / "personal.onnx")


def test_two_models_one_json_record_per_frame_with_a_result_each(capsys, media, personal,
                                                                 tmp_path):
    out_json = tmp_path / "both.jsonl"
    code, out, err = run(capsys, "--model", media["model"], "--model", personal,
                         "--video", media["clip"], "--json", out_json, "--top-k", 2)
    assert code == 0, err
    records = read_jsonl(out_json)
    assert [r["frame"] for r in records] == list(range(len(media["clip_labels"])))
    for record, truth in zip(records, media["clip_labels"]):
        assert "label" not in record and "top" not in record
        photo, second = record["models"]
        assert (photo["model"], photo["label"]) == ("photo", truth)
        assert (second["model"], second["label"]) == ("personal", RENAMED[truth])
        assert len(photo["top"]) == len(second["top"]) == 2
        assert second["top"][0]["index"] == ["kitty", "mug"].index(RENAMED[truth])
        # the frame's split is the models' stages summed, and accounts for its latency
        split = record["latency_ms"]
        for stage in ("preprocess", "inference", "postprocess"):
            assert split[stage] == pytest.approx(photo["latency_ms"][stage] +
                                                 second["latency_ms"][stage], abs=0.01)
        assert split["model"] == pytest.approx(
            split["preprocess"] + split["inference"] + split["postprocess"], abs=0.01)
        assert split["model"] == pytest.approx(photo["latency_ms"]["model"] +
                                               second["latency_ms"]["model"], abs=0.01)
    # one console line per frame, naming each model with its top-k
    lines = out.splitlines()
    assert len(lines) == len(records)
    for line, truth in zip(lines, media["clip_labels"]):
        assert f"photo: {truth} " in line and f"personal: {RENAMED[truth]} " in line
    assert "photo.onnx" in err and "personal.onnx" in err


def test_one_model_keeps_the_single_record_format(capsys, media, tmp_path):
    out_json = tmp_path / "one.jsonl"
    code, _, _ = run(capsys, "--model", media["model"], "--image",
                     os.path.join(DATA_DIR, "chelsea.jpg"), "--json", out_json, "--quiet")
    assert code == 0
    record, = read_jsonl(out_json)
    assert "models" not in record and record["label"] == "cat"
    assert {"frame", "label", "score", "top", "captured_at", "result_at",
            "latency_ms"} <= set(record)


def test_two_models_csv_has_a_row_per_frame_and_model(capsys, media, personal, tmp_path):
    out_csv = tmp_path / "both.csv"
    code, _, _ = run(capsys, "--model", media["model"], "--model", personal, "--video",
                     media["clip"], "--csv", out_csv, "--quiet", "--every", 3)
    assert code == 0
    rows = list(csv.DictReader(out_csv.open()))
    frames = list(range(0, len(media["clip_labels"]), 3))
    assert [(int(r["frame"]), r["model"]) for r in rows] == \
        [(f, name) for f in frames for name in ("photo", "personal")]
    for row in rows:
        truth = media["clip_labels"][int(row["frame"])]
        assert row["label"] == (truth if row["model"] == "photo" else RENAMED[truth])
        assert float(row["model_ms"]) >= float(row["inference_ms"]) > 0
        assert float(row["queued_ms"]) >= 0 and row["end_to_end_ms"] == ""  # a file


def test_two_models_overlay_is_stacked_on_every_frame(capsys, media, personal, tmp_path):
    one, both = tmp_path / "one.avi", tmp_path / "both.avi"
    for models, saved in (([media["model"]], one), ([media["model"], personal], both)):
        args = [a for path in models for a in ("--model", path)]
        code, _, _ = run(capsys, *args, "--video", media["clip"], "--save-video", saved,
                         "--quiet", "--every", 2)
        assert code == 0
    original, single, stacked = (cv2.VideoCapture(str(p)) for p in (media["clip"], one, both))
    count = 0
    while True:
        ok, frame = original.read()
        ok_one, with_one = single.read()
        ok_both, with_both = stacked.read()
        assert ok == ok_one == ok_both
        if not ok:
            break
        # the labels sit at the top left: one model writes its top 3 there, two
        # models a line each, so the text differs; the bottom is untouched by both
        corner = (slice(0, 40), slice(0, 100))
        assert cv2.absdiff(with_one[corner], with_both[corner]).mean() > 10
        assert cv2.absdiff(frame[90:], with_both[90:]).mean() < 8
        count += 1
    assert count == len(media["clip_labels"])


def test_two_sensor_models_on_one_stream(capsys, tmp_path):
    means = tiny_models.save(tiny_models.sensor_channel_means(CHANNELS, window=8, hop=8),
                             tmp_path / "means.onnx")
    nwc = tiny_models.save(tiny_models.sensor_channel_means(CHANNELS, window=8, hop=8,
                                                           layout="nwc"),
                           tmp_path / "means_nwc.onnx")
    dominant = ["ay", "az", "ax"]
    lines = ["t,ax,ay,az"]
    for w, channel in enumerate(dominant):
        for i in range(8):
            values = {c: 5.0 if c == channel else 0.1 * i for c in CHANNELS}
            lines.append(f"{(8 * w + i) / 10:.1f},{values['ax']},{values['ay']},{values['az']}")
    stream = tmp_path / "s.csv"
    stream.write_text("\n".join(lines) + "\n")
    out_json = tmp_path / "r.jsonl"
    code, out, err = run(capsys, "--model", means, "--model", nwc, "--sensor", stream,
                         "--json", out_json)
    assert code == 0, err
    records = read_jsonl(out_json)
    assert [[m["label"] for m in r["models"]] for r in records] == [[c, c] for c in dominant]
    assert [m["model"] for m in records[0]["models"]] == ["means", "means_nwc"]
    assert records[1]["first_sample_time"] == pytest.approx(0.8)


def test_sensor_models_that_cut_the_stream_differently_are_refused(capsys, tmp_path):
    eight = tiny_models.save(tiny_models.sensor_channel_means(CHANNELS, window=8, hop=8),
                             tmp_path / "eight.onnx")
    four = tiny_models.save(tiny_models.sensor_channel_means(CHANNELS, window=4, hop=4),
                            tmp_path / "four.onnx")
    stream = tmp_path / "s.csv"
    stream.write_text("t,ax,ay,az\n0,1,2,3\n")
    code, _, err = run(capsys, "--model", eight, "--model", four, "--sensor", stream)
    assert_one_line_error(code, err, "four.onnx", "4-sample windows", "8-sample windows",
                          "same window")


def test_an_image_model_and_a_sensor_model_are_refused(capsys, media, tmp_path):
    sensor = tiny_models.save(tiny_models.sensor_channel_means(CHANNELS), tmp_path / "imu.onnx")
    code, _, err = run(capsys, "--model", media["model"], "--model", sensor, "--video",
                       media["clip"])
    assert_one_line_error(code, err, "imu.onnx", "sensor")


def test_labels_and_output_are_refused_with_several_models(capsys, media, personal, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\n")
    code, _, err = run(capsys, "--model", media["model"], "--model", personal, "--video",
                       media["clip"], "--labels", labels)
    assert_one_line_error(code, err, "--labels", "several --model")


def test_the_same_model_twice_gets_two_names(capsys, media, tmp_path):
    out_json = tmp_path / "twice.jsonl"
    code, _, _ = run(capsys, "--model", media["model"], "--model", media["model"], "--video",
                     media["clip"], "--json", out_json, "--max-frames", 2, "--quiet")
    assert code == 0
    record = read_jsonl(out_json)[0]
    assert [m["model"] for m in record["models"]] == ["photo", "photo#2"]
    assert record["models"][0]["top"] == record["models"][1]["top"]
