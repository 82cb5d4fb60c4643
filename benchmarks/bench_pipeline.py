"""The whole of `edgeinfer run` on a 640x480 clip against the model's bare
inference rate, one inference thread. What the pipeline adds per frame —
decode (overlapped in the read-ahead thread), preprocess, postprocess, the
hand-offs — is the difference; the target is at most 10 % of a frame's time
spent outside inference.

The model is the EfficientNet-Lite0 demo model when tools/make_demo_model.py
has built it (models/efficientnet-lite0.onnx), else a MobileNet v1-shaped
network of similar cost with seeded weights (tools/tiny_models.py)."""
import os

import numpy as np
import pytest

import edgeinfer
from edgeinfer.run.pipeline import Pipeline
from edgeinfer.run.classifier import Classifier
from edgeinfer.run.postprocess import Postprocessor
from edgeinfer.sources import open_video
from tools import sample_clip

FRAMES = 30


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("clip") / "clip640.mp4")
    sample_clip.write_clip(path, (640, 480), frames_per_photo=FRAMES // 2, fps=30.0)
    return path


@pytest.fixture(scope="module")
def model(model_path):
    return edgeinfer.load(model_path, threads=1)


def bench_bare_inference(benchmark, model):
    """One frame's inference alone: the ceiling the pipeline is measured against."""
    tensor = model.prepare(sample_clip.photo("chelsea"))
    benchmark.group = "pipeline 640x480, per frame"
    benchmark.extra_info["model"] = os.path.basename(model.path)
    benchmark(model.run, tensor)


def bench_prepare_and_run(benchmark, model, clip):
    """The loop a user would write by hand over frames already decoded in memory:
    preprocess + inference, no decode, no results. Between the bare inference and
    the pipeline: what preprocessing (and the caches it disturbs) costs."""
    import cv2

    capture = cv2.VideoCapture(clip)
    frames = []
    while len(frames) < FRAMES:
        ok, frame = capture.read()
        assert ok
        frames.append(frame)
    tensor = model.new_input()
    position = [0]

    def one_frame():
        model.prepare(frames[position[0] % FRAMES], out=tensor)
        model.run(tensor)
        position[0] += 1

    benchmark.group = "pipeline 640x480, per frame"
    benchmark(one_frame)


def run_clip(model, clip):
    source = open_video(clip)
    pipeline = Pipeline(source, [Classifier(model, Postprocessor.for_model(model, top_k=5))])
    stats = pipeline.run()
    assert stats.classified == FRAMES
    return stats


def bench_pipeline(benchmark, model, clip):
    """Decode + preprocess + inference + postprocess for every frame of the clip,
    reported per frame (the clip's time divided by its frames)."""
    benchmark.group = "pipeline 640x480, per frame"
    runs = []

    def one_clip():
        runs.append(run_clip(model, clip))

    benchmark.pedantic(one_clip, rounds=3, iterations=1, warmup_rounds=0)
    if benchmark.stats:  # pytest-benchmark timed whole clips: report per frame, as the bare run
        timings = benchmark.stats.stats
        timings.data[:] = [seconds / FRAMES for seconds in timings.data]
    best = min(runs, key=lambda s: s.seconds)
    inference = float(np.sum(best.samples["inference"])) / 1e3
    benchmark.extra_info.update({
        "model": os.path.basename(model.path),
        "frames": FRAMES,
        "fps": round(best.fps, 2),
        "share_outside_inference": round(1 - inference / best.seconds, 3),
        "p50_ms": {stage: round(best.percentiles(stage)[0], 3) for stage in best.samples},
    })
