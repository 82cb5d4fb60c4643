"""TFLite flatbuffers through tf2onnx, checked against the TFLite interpreter."""
import warnings

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tf2onnx")

from conftest import assert_one_line_error  # noqa: E402
from framework_models import keras_sequential, read_metadata, run_onnx, runtime_inputs  # noqa: E402


@pytest.fixture(scope="module")
def tflite_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tflite") / "gestures.tflite"
    converter = tf.lite.TFLiteConverter.from_keras_model(keras_sequential())
    path.write_bytes(converter.convert())
    return path


def interpreter_output(path, x_nhwc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x_nhwc)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_tflite_converts_and_matches_the_interpreter(tflite_file, tmp_path, cli):
    (tflite_file.parent / "labels.txt").write_text("0 up\n1 down\n2 left\n3 right\n")
    out = tmp_path / "model.onnx"
    code, _, err = cli("convert", tflite_file, "-o", out, "--preprocess", "tf")
    assert code == 0, err
    info = read_metadata(str(out))
    assert info.labels == ["up", "down", "left", "right"]
    assert info.source["format"] == "tflite" and info.verification["passed"]
    assert info.image.layout == "nchw" and tuple(info.image.mean) == (127.5,) * 3
    for x in runtime_inputs(info):
        want = interpreter_output(tflite_file, np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
        np.testing.assert_allclose(run_onnx(str(out), x), want, atol=1e-5)


def test_teachable_machine_tflite_export(tflite_file, tmp_path, cli):
    export = tmp_path / "converted_tflite"
    export.mkdir()
    (export / "model_unquant.tflite").write_bytes(tflite_file.read_bytes())
    (export / "labels.txt").write_text("0 Rock\n1 Paper\n2 Scissors\n3 Nothing\n")
    out = tmp_path / "tm.onnx"
    code, _, err = cli("convert", export / "model_unquant.tflite", "-o", out)
    assert code == 0, err
    info = read_metadata(str(out))
    assert info.labels == ["Rock", "Paper", "Scissors", "Nothing"]
    assert info.source["format"] == "teachable-machine"
    assert info.image.mean == (127.5,) * 3 and info.image.crop == 1.0


def test_file_that_is_not_a_flatbuffer(tmp_path, cli):
    fake = tmp_path / "model.tflite"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    code, _, err = cli("convert", fake, "-o", tmp_path / "out.onnx")
    assert_one_line_error(code, err, "model.tflite", "not a TFLite flatbuffer")
    assert not (tmp_path / "out.onnx").exists()


def test_truncated_tflite(tflite_file, tmp_path, cli):
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(tflite_file.read_bytes()[:600])
    code, _, err = cli("convert", truncated, "-o", tmp_path / "out.onnx")
    assert_one_line_error(code, err, "truncated.tflite")
    assert not (tmp_path / "out.onnx").exists()


@pytest.fixture(scope="module")
def dynamic_range_tflite(tmp_path_factory):
    """Dynamic-range quantisation (int8 weights, float activations computed
    through int8 kernels): TFLite quantises only weights of 1024+ elements, so
    the model carries two such layers."""
    import keras

    keras.utils.set_random_seed(9)
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
        keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10)])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    path = tmp_path_factory.mktemp("quantized") / "model_quantized.tflite"
    path.write_bytes(converter.convert())
    return path


def test_dynamic_range_quantized_tflite_verifies_with_a_quantization_tolerance(
        dynamic_range_tflite, tflite_file, tmp_path, cli):
    out = tmp_path / "quantized.onnx"
    code, _, err = cli("convert", dynamic_range_tflite, "-o", out)
    assert code == 0, err
    assert "--no-verify" not in err
    assert "int8 tensors" in err and "top-1 agreement" in err
    report = read_metadata(str(out)).verification
    assert report["passed"] and report["source_quantization"] == {"bits": 8, "tensors": 2}
    assert report["rtol"] == pytest.approx(4 / 127)
    # it needed the wider tolerance: the int8 kernels differ from float beyond 1e-3
    assert report["max_rel_diff"] > 1e-3 and report["top1_agreement"] is not None
    info = read_metadata(str(out))
    for x in runtime_inputs(info):
        want = interpreter_output(dynamic_range_tflite,
                                  np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
        got = run_onnx(str(out), x)
        assert np.abs(got - want).max() <= report["rtol"] * np.abs(want).max()
    # a float TFLite model keeps the float tolerance
    code, _, err = cli("convert", tflite_file, "-o", tmp_path / "float.onnx")
    assert code == 0, err
    float_report = read_metadata(str(tmp_path / "float.onnx")).verification
    assert "source_quantization" not in float_report and float_report["rtol"] == 1e-3
