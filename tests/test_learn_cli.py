"""collect and personalize through the CLI, on real files: appending,
sensor windows, and each bad input refused in one line with nothing written."""
import os

import numpy as np
import onnx
import pytest
from onnx import helper

from edgeinfer.cli import main
from edgeinfer.metadata import ModelInfo, SensorInput, read_info, write_info

from learn_data import digits, few_shot_split, write_base_model, write_class_folders


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return write_base_model(str(tmp_path_factory.mktemp("base") / "base.onnx"))


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    images, labels = digits()
    root = tmp_path_factory.mktemp("photos")
    return write_class_folders(str(root), images[:6], labels[:6] * 0)


def _one_line_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_collect_appends_to_an_existing_class_folder(photos, tmp_path, capsys):
    data = str(tmp_path / "data")
    source = os.path.join(photos, "0")
    assert main(["collect", "--data", data, "--label", "mug", "--image", source]) == 0
    assert main(["collect", "--data", data, "--label", "mug", "--image", source,
                 "--count", "2"]) == 0
    names = sorted(os.listdir(os.path.join(data, "mug")))
    assert names == [f"{i:04d}.png" for i in range(1, 9)]
    assert "saved 2 frames" in capsys.readouterr().err


def test_collect_sensor_windows_as_csv_with_channel_names(tmp_path):
    stream = tmp_path / "walk.csv"
    rows = np.arange(60, dtype=np.float32).reshape(20, 3)
    stream.write_text("t,ax,ay,az\n" + "".join(f"{i},{a},{b},{c}\n"
                                                for i, (a, b, c) in enumerate(rows)))
    data = str(tmp_path / "data")
    assert main(["collect", "--data", data, "--label", "walking", "--sensor", str(stream),
                 "--window", "5", "--channels", "ax,ay,az", "--windows", "3"]) == 0
    files = sorted(os.listdir(os.path.join(data, "walking")))
    assert files == ["0001.csv", "0002.csv", "0003.csv"]
    text = open(os.path.join(data, "walking", "0002.csv")).read().splitlines()
    assert text[0] == "ax,ay,az"
    np.testing.assert_array_equal(np.loadtxt(text[1:], delimiter=","), rows[5:10])


def test_personalize_cli_end_to_end_on_real_files(base, tmp_path, capsys):
    images, labels = digits()
    train, _ = few_shot_split(labels, (5, 6, 7), shots=5)
    data = write_class_folders(str(tmp_path / "data"), images[train], labels[train])
    out = str(tmp_path / "personal.onnx")
    assert main(["personalize", base, "--data", data, "-o", out, "--head", "ncm",
                 "--augment", "1"]) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}" in err and "\r" not in err  # no progress bar in a pipe
    assert read_info(onnx.load(out)).labels == ["5", "6", "7"]
    assert main(["run", "--model", out, "--image", os.path.join(data, "6"), "--quiet"]) == 0


def _sensor_model(path):
    """A sensor model whose trunk takes 10 samples x 2 channels."""
    from onnx import numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(20, 8)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.normal(size=(8, 2)).astype(np.float32), "w2")]
    nodes = [helper.make_node("MatMul", ["input", "w1"], ["hidden"]),
             helper.make_node("MatMul", ["hidden", "w2"], ["output"])]
    graph = helper.make_graph(nodes, "s", [helper.make_tensor_value_info(
        "input", onnx.TensorProto.FLOAT, ["N", 20])], [helper.make_tensor_value_info(
            "output", onnx.TensorProto.FLOAT, ["N", 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    write_info(model, ModelInfo(task="sensor-classification", labels=["a", "b"],
                                sensor=SensorInput(window=10, hop=10, channels=("x", "y"),
                                                   layout="flat")))
    onnx.save(model, path)
    return path


def test_personalize_sensor_windows_and_one_of_another_size(tmp_path, capsys):
    model = _sensor_model(str(tmp_path / "s.onnx"))
    data = tmp_path / "data"
    rng = np.random.default_rng(1)
    for label in ("still", "shake"):
        (data / label).mkdir(parents=True)
        for i in range(4):
            np.save(data / label / f"{i}.npy", rng.normal(size=(10, 2)) * (label == "shake"))
    out = str(tmp_path / "p.onnx")
    assert main(["personalize", model, "--data", str(data), "-o", out]) == 0
    capsys.readouterr()
    np.save(data / "still" / "9.npy", np.zeros((12, 3)))
    os.remove(out)
    err = _one_line_error(capsys, ["personalize", model, "--data", str(data), "-o", out])
    assert "9.npy" in err and "10 samples x 2 channels" in err and not os.path.exists(out)


def test_personalize_augments_sensor_windows(tmp_path, capsys):
    from edgeinfer.learn.samples import augmented_window

    model = _sensor_model(str(tmp_path / "s.onnx"))
    data = tmp_path / "data"
    rng = np.random.default_rng(2)
    t = np.arange(10)[:, None]
    for label, speed in (("slow", 0.3), ("fast", 1.5)):
        (data / label).mkdir(parents=True)
        for i in range(3):
            np.save(data / label / f"{i}.npy", np.sin(speed * t + rng.uniform(0, 6, (1, 2))))
    out = str(tmp_path / "p.onnx")
    assert main(["personalize", model, "--data", str(data), "-o", out, "--augment", "3"]) == 0
    made = read_info(onnx.load(out)).personalization
    assert made["augmented_copies"] == 3 and made["samples_per_class"] == {"fast": 3, "slow": 3}
    window = np.load(data / "slow" / "0.npy").astype(np.float32)
    a, b = (augmented_window(window, np.random.default_rng(5)) for _ in range(2))
    np.testing.assert_array_equal(a, b)          # seeded
    assert a.shape == window.shape and a.dtype == np.float32 and not np.allclose(a, window)
    # a light variation: still far nearer its own window than the other class's
    other = np.load(data / "fast" / "0.npy")
    assert np.abs(a - window).mean() < np.abs(a - other).mean()


@pytest.mark.parametrize("case", ["empty folder", "one class", "empty file", "unreadable file",
                                  "no data folder"])
def test_bad_data_is_refused_in_one_line_naming_it(base, tmp_path, capsys, case):
    images, labels = digits()
    data = write_class_folders(str(tmp_path / "data"), images[:12], labels[:12] % 2)
    named = {"no data folder": str(tmp_path / "missing")}
    if case == "empty folder":
        os.mkdir(os.path.join(data, "2"))
        named[case] = os.path.join(data, "2")
    elif case == "one class":
        import shutil
        shutil.rmtree(os.path.join(data, "1"))
        named[case] = data
    elif case == "empty file":
        named[case] = os.path.join(data, "1", "9999.png")
        open(named[case], "wb").close()
    elif case == "unreadable file":
        named[case] = os.path.join(data, "0", "9998.jpg")
        with open(named[case], "wb") as f:
            f.write(b"not a jpeg at all")
    out = str(tmp_path / "personal.onnx")
    given = named[case] if case == "no data folder" else data
    err = _one_line_error(capsys, ["personalize", base, "--data", given, "-o", out])
    assert named[case] in err
    assert not os.path.exists(out) and not [f for f in os.listdir(tmp_path) if f.startswith(".tmp")]


def test_base_without_identifiable_embedding_asks_for_cut(tmp_path, capsys, base):
    model = helper.make_model(helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["output"])], "conv_only",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["N", 3])]),
        opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = str(tmp_path / "conv_only.onnx")
    onnx.save(model, path)
    images, labels = digits()
    data = write_class_folders(str(tmp_path / "data"), images[:8], labels[:8] % 2)
    err = _one_line_error(capsys, ["personalize", path, "--data", data, "-o",
                                   str(tmp_path / "p.onnx")])
    assert "no identifiable embedding" in err and "--cut" in err
    err = _one_line_error(capsys, ["personalize", base, "--data", data, "-o",
                                   str(tmp_path / "p.onnx"), "--cut", "nope"])
    assert "no tensor 'nope'" in err
