"""Keras models through edgeinfer's converter run on the native backend with
onnxruntime's numbers: the MobileNetV2 architecture (weights=None: nothing is
downloaded) and small Sequential and functional CNNs. Skipped without keras."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")
ort = pytest.importorskip("onnxruntime")

from edgeinfer.convert import from_keras  # noqa: E402
from edgeinfer.native import NativeBackend  # noqa: E402

LOGIT_TOLERANCE = 1e-3


def sequential_cnn():
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(),
        keras.layers.DepthwiseConv2D(3, padding="same"),
        keras.layers.ReLU(max_value=6.0),
        keras.layers.Conv2D(16, 1),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(5)])


def functional_cnn():
    inputs = keras.Input((24, 24, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("hard_swish")(x)
    branch = keras.layers.AveragePooling2D(2, padding="same")(x)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="valid")(x)
    x = keras.layers.ZeroPadding2D(((1, 0), (1, 0)))(x)
    x = keras.layers.Concatenate()([x, branch])
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(4)(x)
    return keras.Model(inputs, outputs)


def mobilenet_v2():
    return keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), classes=10,
                                          classifier_activation=None)


@pytest.mark.parametrize("build", [sequential_cnn, functional_cnn, mobilenet_v2],
                         ids=lambda f: f.__name__)
def test_keras_model_matches_onnxruntime(build, tmp_path):
    keras.utils.set_random_seed(0)
    model = build()
    path = str(tmp_path / "model.onnx")
    from_keras(model, path)
    backend = NativeBackend(path)
    name = backend.input_names[0]
    shape = [d or 1 for d in backend.input_shapes[0]]
    x = np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32)
    got = backend.run({name: x})[0]
    want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {name: x})[0]
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= LOGIT_TOLERANCE
    assert np.argmax(got) == np.argmax(want)
