"""Camera frame -> 224x224 normalised NCHW RGB, one thread: the fused C kernel,
its numpy reference, the OpenCV pipeline users write by hand, and
cv2.dnn.blobFromImage. Group per frame size; compare within a group."""
import cv2
import numpy as np
import pytest

import edgeinfer
from edgeinfer import reference

FRAMES = {"640x480": (480, 640), "1280x720": (720, 1280), "1920x1080": (1080, 1920)}
MEAN = np.float32(edgeinfer.IMAGENET_MEAN)
STD = np.float32(edgeinfer.IMAGENET_STD)
SIZE = (224, 224)


def opencv_pipeline(frame):
    resized = cv2.resize(frame, SIZE[::-1], interpolation=cv2.INTER_LINEAR)
    rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32)
    return np.ascontiguousarray(((rgb - MEAN) / STD).transpose(2, 0, 1)[None])


def blob_from_image(frame):
    # blobFromImage has one scale for all channels; the mean std stands in
    blob = cv2.dnn.blobFromImage(frame, 1.0 / float(STD.mean()), SIZE[::-1],
                                 tuple(float(m) for m in MEAN), swapRB=True)
    return blob


def frame_of(name):
    height, width = FRAMES[name]
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("frame_name", FRAMES)
def bench_edgeinfer(benchmark, frame_name):
    frame = frame_of(frame_name)
    out = np.empty((1, 3) + SIZE, np.float32)
    benchmark.group = f"preprocess {frame_name}"
    benchmark(edgeinfer.preprocess, frame, size=SIZE, mean=edgeinfer.IMAGENET_MEAN,
              std=edgeinfer.IMAGENET_STD, out=out)
    expected = reference.preprocess(frame, size=SIZE, mean=MEAN, std=STD)
    assert np.abs(out - expected).max() < 1e-3


@pytest.mark.parametrize("frame_name", FRAMES)
def bench_numpy_reference(benchmark, frame_name):
    frame = frame_of(frame_name)
    benchmark.group = f"preprocess {frame_name}"
    benchmark(reference.preprocess, frame, size=SIZE, mean=MEAN, std=STD)


@pytest.mark.parametrize("frame_name", FRAMES)
def bench_opencv_pipeline(benchmark, frame_name):
    frame = frame_of(frame_name)
    benchmark.group = f"preprocess {frame_name}"
    benchmark(opencv_pipeline, frame)


@pytest.mark.parametrize("frame_name", FRAMES)
def bench_opencv_blob_from_image(benchmark, frame_name):
    frame = frame_of(frame_name)
    benchmark.group = f"preprocess {frame_name}"
    benchmark(blob_from_image, frame)
