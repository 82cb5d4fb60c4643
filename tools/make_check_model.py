"""Builds a small cat-vs-coffee classifier from the bundled photos with onnx and
numpy alone (tiny_models.photo_classifier: a seeded random trunk and a
nearest-class-mean head on views of each photo), so an install without torch
or TensorFlow can prove `edgeinfer run` works end to end. It knows two
classes and is no real classifier: for one, convert a model on a laptop
(`edgeinfer convert`, or `make demo-model`) and copy the .onnx over.

    python tools/make_check_model.py [-o models/photo-check.onnx]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sample_clip  # noqa: E402
import tiny_models  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, "models", "photo-check.onnx")
CLASSES = {"cat": "chelsea", "coffee": "coffee"}
VIEW_SIZE = (160, 120)   # width x height of the views the head's class means are taken on
VIEWS = 8


def build(out_path):
    views = {label: [frame for frame, _ in sample_clip.clip_frames(VIEW_SIZE, VIEWS, [photo])]
             for label, photo in CLASSES.items()}
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    return tiny_models.save(tiny_models.photo_classifier(views), out_path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=DEFAULT_OUTPUT)
    path = build(parser.parse_args(argv).output)
    print(f"wrote {path}: cat vs coffee, to check the install on the bundled photos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
