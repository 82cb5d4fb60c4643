"""Keras Sequential and functional models, saved as .keras, .h5 and
SavedModel, and a Teachable-Machine-shaped keras_model.h5: each converts,
verifies, and the ONNX file matches Keras on runtime-shaped inputs."""
import os

import numpy as np
import onnx
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tf2onnx")

from conftest import assert_one_line_error  # noqa: E402
from framework_models import (keras_functional, keras_sequential, read_metadata,  # noqa: E402
                              run_onnx, runtime_inputs, save_teachable_machine_h5)

from edgeinfer.convert import from_keras  # noqa: E402
from edgeinfer.media import DATA_DIR  # noqa: E402

PHOTOS = [os.path.join(DATA_DIR, "chelsea.jpg"), os.path.join(DATA_DIR, "coffee.jpg")]


def assert_matches_keras(model, onnx_path, atol=1e-5):
    info = read_metadata(onnx_path)
    for x in runtime_inputs(info, PHOTOS):
        nhwc = x.transpose(0, 2, 3, 1) if info.image.layout == "nchw" else x
        want = model(nhwc, training=False).numpy()
        got = run_onnx(onnx_path, x)
        np.testing.assert_allclose(got, want, atol=atol, rtol=1e-4)
        assert got.argmax() == want.argmax() or np.sort(want[0])[-2] > want.max() - 1e-4


@pytest.fixture(scope="module")
def sequential():
    return keras_sequential()


@pytest.mark.parametrize("suffix", [".keras", ".h5", "savedmodel"])
def test_saved_sequential_converts_and_matches(sequential, tmp_path, cli, suffix):
    source = tmp_path / ("model" + suffix if suffix != "savedmodel" else "exported")
    if suffix == "savedmodel":
        sequential.export(str(source), verbose=False)
    else:
        sequential.save(str(source))
    out = tmp_path / "model.onnx"
    code, stdout, err = cli("convert", source, "-o", out, "--labels", "a,b,c,d")
    assert code == 0, err
    assert stdout.strip() == str(out)
    info = read_metadata(str(out))
    assert info.labels == ["a", "b", "c", "d"]
    assert info.output == "probabilities"            # the model ends in a softmax
    assert info.image.layout == "nchw" and tuple(info.image.size) == (32, 32)
    assert info.verification["passed"] and info.verification["top1_agreement"] == 1.0
    assert info.source["framework"] in ("keras", "tensorflow")
    assert_matches_keras(sequential, str(out))


def test_functional_model_object_keeps_nhwc_when_asked(tmp_path):
    model = keras_functional()
    out = tmp_path / "functional.onnx"
    info = from_keras(model, str(out), preprocess="layout=nhwc")
    assert info.image.layout == "nhwc"
    assert info.output == "logits"
    # a Rescaling first layer means the model takes raw 0..255 pixels
    assert tuple(info.image.std) == (1.0, 1.0, 1.0) and tuple(info.image.mean) == (0.0, 0.0, 0.0)
    stored = read_metadata(str(out))
    assert stored.image == info.image and stored.labels == []
    assert_matches_keras(model, str(out))


def test_functional_model_default_export_is_nchw(tmp_path):
    model = keras_functional()
    out = tmp_path / "functional.onnx"
    info = from_keras(model, str(out), preprocess=["imagenet", "crop=none"])
    assert info.image.layout == "nchw"
    assert tuple(info.image.mean) == pytest.approx((123.675, 116.28, 103.53))
    assert info.image.crop is None
    assert_matches_keras(model, str(out))


def test_teachable_machine_h5_with_groups_and_labels(tmp_path, cli):
    import keras

    model, path = save_teachable_machine_h5(str(tmp_path))
    with pytest.raises(Exception, match="groups"):
        keras.models.load_model(path, compile=False)  # the Keras 3 failure this path exists for
    out = tmp_path / "tm.onnx"
    code, _, err = cli("convert", path, "-o", out)
    assert code == 0, err
    assert "labels.txt" in err
    info = read_metadata(str(out))
    assert info.labels == ["Cat", "Coffee", "Background"]
    assert info.source["format"] == "teachable-machine"
    assert info.output == "probabilities"
    # Teachable Machine: centre square, x / 127.5 - 1
    assert tuple(info.image.mean) == (127.5,) * 3 and tuple(info.image.std) == (127.5,) * 3
    assert info.image.crop == 1.0 and info.image.color == "rgb"
    assert_matches_keras(model, str(out))
    # labels given by hand do not hide where the model came from
    renamed = tmp_path / "renamed.onnx"
    code, _, err = cli("convert", path, "-o", renamed, "--labels", "x,y,z")
    assert code == 0, err
    info = read_metadata(str(renamed))
    assert info.labels == ["x", "y", "z"] and info.image.mean == (127.5,) * 3


KERAS2_EXPORT = os.path.join(os.path.dirname(__file__), "data", "teachable_machine")


def test_keras2_teachable_machine_file_matches_what_keras2_computed(tmp_path, cli):
    """A keras_model.h5 written by real Keras 2 (tests/data/make_teachable_machine_h5.py):
    nested Sequential and functional models, `groups: 1`, list-valued batch-norm axes,
    input shapes on Dense layers. The ONNX file must reproduce Keras 2's own outputs."""
    import shutil

    import keras

    export = tmp_path / "converted_keras"
    shutil.copytree(KERAS2_EXPORT, export)
    with pytest.raises(Exception):
        keras.models.load_model(str(export / "keras_model.h5"), compile=False)
    out = tmp_path / "tm.onnx"
    code, _, err = cli("convert", export / "keras_model.h5", "-o", out)
    assert code == 0, err
    info = read_metadata(str(out))
    assert info.labels == ["Cat", "Coffee", "Background"] and info.output == "probabilities"
    expected = np.load(export / "expected.npz")["outputs"]
    for photo, want in zip(PHOTOS, expected):
        x = runtime_inputs(info, [photo])[-1]
        np.testing.assert_allclose(run_onnx(str(out), x)[0], want, atol=2e-5)


def test_labels_count_must_match_outputs(sequential, tmp_path, cli):
    source = tmp_path / "m.keras"
    sequential.save(str(source))
    out = tmp_path / "m.onnx"
    code, _, err = cli("convert", source, "-o", out, "--labels", "one,two")
    assert_one_line_error(code, err, "4 scores", "2 labels")
    assert not out.exists()


def test_truncated_h5_is_one_line_and_leaves_nothing(sequential, tmp_path, cli):
    whole = tmp_path / "whole.h5"
    sequential.save(str(whole))
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(whole.read_bytes()[:2000])
    out = tmp_path / "out.onnx"
    code, _, err = cli("convert", truncated, "-o", out)
    assert_one_line_error(code, err, "truncated.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truncated.h5", "whole.h5"]


def test_directory_that_is_not_a_saved_model(tmp_path, cli):
    folder = tmp_path / "photos"
    folder.mkdir()
    code, _, err = cli("convert", folder, "-o", tmp_path / "out.onnx")
    assert_one_line_error(code, err, "not a TensorFlow SavedModel")
    assert not (tmp_path / "out.onnx").exists()


def test_layer_without_onnx_equivalent(tmp_path):
    import keras
    import tensorflow as tf

    from edgeinfer.errors import UserError

    class Spectrum(keras.layers.Layer):
        def call(self, x):
            return tf.math.real(tf.signal.fft(tf.cast(x, tf.complex64)))

    signal = keras.Input((16,))
    model = keras.Model(signal, keras.layers.Dense(2)(Spectrum()(signal)))
    out = tmp_path / "fft.onnx"
    with pytest.raises(UserError, match="no ONNX equivalent .*FFT"):
        from_keras(model, str(out))
    assert not out.exists()


def test_sensor_shaped_keras_model(tmp_path):
    import keras

    keras.utils.set_random_seed(5)
    window = keras.Input((6, 50))
    model = keras.Model(window, keras.layers.Dense(4)(keras.layers.Flatten()(window)))
    out = tmp_path / "sensor.onnx"
    info = from_keras(model, str(out))
    assert info.task == "sensor-classification" and info.image is None
    x = np.random.default_rng(0).standard_normal((2, 6, 50)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(str(out), x), model(x).numpy(), atol=1e-5)


def test_adapted_normalization_layer_is_frozen_into_the_model(tmp_path, cli):
    """An adapted Normalization layer keeps its mean and variance as tensors
    the traced function captures; they used to become two extra graph inputs
    and the conversion was refused for having 3 inputs."""
    import keras

    keras.utils.set_random_seed(8)
    rng = np.random.default_rng(8)
    # windows of 12 samples x 4 channels, far from zero mean and unit variance, as raw sensor data is
    offsets, scales = np.array([9.8, -3.0, 250.0, 0.5]), np.array([0.5, 4.0, 30.0, 0.01])
    x = (rng.standard_normal((96, 12, 4)) * scales + offsets).astype(np.float32)
    y = (x[:, :, 0].mean(1) > offsets[0]).astype(np.int64) + (x[:, :, 2].mean(1) > offsets[2])
    normalization = keras.layers.Normalization(axis=-1)
    normalization.adapt(x)
    model = keras.Sequential([keras.Input((12, 4)), normalization,
                              keras.layers.Conv1D(8, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    source, out = tmp_path / "motion.keras", tmp_path / "motion.onnx"
    model.save(source)

    code, _, err = cli("convert", source, "-o", out)
    assert code == 0, err
    info = read_metadata(str(out))
    assert info.task == "sensor-classification" and info.verification["passed"]
    graph = onnx.load(str(out)).graph
    initializers = {i.name for i in graph.initializer}
    assert [i.name for i in graph.input if i.name not in initializers] == ["input"]
    want = model.predict(x, verbose=0)
    got = run_onnx(str(out), x)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)
    assert (got.argmax(1) == want.argmax(1)).all()
