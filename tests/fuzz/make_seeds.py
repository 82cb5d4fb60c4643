"""Writes the seed corpus in tests/fuzz/corpus/<harness>/ (committed; run
again only to change it): short byte strings that pick shapes, views and
options for the kernel harnesses, metadata documents as the converter writes
them, and tiny ONNX models the native backend runs.

    python tests/fuzz/make_seeds.py      (from the repository root)"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from harness import CORPUS  # noqa: E402
from tools import tiny_models  # noqa: E402
from edgeinfer.metadata import ModelInfo  # noqa: E402

KERNEL_SEEDS = 6
KERNEL_SEED_BYTES = 64


def write(harness, name, data):
    folder = os.path.join(CORPUS, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    rng = np.random.default_rng(13)
    for harness in ("preprocess", "filter2d", "conv2d"):
        for i in range(KERNEL_SEEDS):
            write(harness, f"random-{i}", rng.integers(0, 256, KERNEL_SEED_BYTES,
                                                       np.uint8).tobytes())
    models = {
        "image-classifier": tiny_models.random_classifier(["cat", "dog", "cup"], size=(16, 16)),
        "image-probabilities": tiny_models.random_classifier(["a", "b"], size=(12, 10),
                                                             output="probabilities",
                                                             layout="nhwc", crop=0.875),
        "channel-means": tiny_models.channel_means(size=(8, 8), color="bgr"),
        "sensor-channel-means": tiny_models.sensor_channel_means(window=8, hop=4,
                                                                 layout="nwc"),
    }
    for name, model in models.items():
        write("native_loader", f"{name}.onnx", model.SerializeToString())
        write("metadata", f"{name}.json", model.metadata_props[0].value.encode())
    write("metadata", "defaults.json", ModelInfo().to_json().encode())


if __name__ == "__main__":
    main()
