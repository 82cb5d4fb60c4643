"""Keras classifiers converted with edgeinfer's own converter, for timing
backends on what a Keras user brings: MobileNetV2 (224x224, seeded weights:
the architecture is what costs time, not the values) and a CNN shaped like
fer's mini-Xception emotion model (64x64 grey, residual separable-conv blocks
with MaxPool). Needs TensorFlow; nothing is downloaded.

usage: python tools/keras_models.py OUT_DIR   writes mobilenetv2-keras-224.onnx, mini-xception-64.onnx
"""
import os

MOBILENET_V2 = "mobilenetv2-keras-224.onnx"
MINI_XCEPTION = "mini-xception-64.onnx"


def mobilenet_v2(keras, size=224):
    return keras.applications.MobileNetV2(weights=None, input_shape=(size, size, 3),
                                          classes=1000, classifier_activation=None)


def mini_xception(keras, size=64, classes=7):
    """fer's mini_XCEPTION: two 3x3 convs of 8, then four blocks of two
    separable 3x3 convs (16, 32, 64, 128) with a 3x3/2 MaxPool, added to a
    strided 1x1 shortcut; a 3x3 conv to the classes, global average."""
    layers = keras.layers
    inputs = keras.Input((size, size, 1))
    x = inputs
    for _ in range(2):
        x = layers.Conv2D(8, 3, use_bias=False)(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
    for channels in (16, 32, 64, 128):
        shortcut = layers.BatchNormalization()(
            layers.Conv2D(channels, 1, strides=2, padding="same", use_bias=False)(x))
        x = layers.SeparableConv2D(channels, 3, padding="same", use_bias=False)(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
        x = layers.SeparableConv2D(channels, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.add([x, shortcut])
    x = layers.Conv2D(classes, 3, padding="same")(x)
    outputs = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, outputs)


def _randomise_batchnorm(keras, model, seed):
    """Fresh Keras BatchNorms are identities; real ones are not, and folding
    them must be exercised."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            n = gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n).astype(np.float32),
                               (rng.standard_normal(n) * 0.1).astype(np.float32),
                               (rng.standard_normal(n) * 0.1).astype(np.float32),
                               rng.uniform(0.5, 1.5, n).astype(np.float32)])


def export(name, out_dir, seed=0):
    """Path of the named model converted to ONNX (made once, then reused)."""
    path = os.path.join(out_dir, name)
    if os.path.exists(path):
        return path
    from edgeinfer.convert import frameworks
    from edgeinfer.convert.keras import from_keras

    keras = frameworks.keras()
    keras.utils.set_random_seed(seed)
    model = {MOBILENET_V2: mobilenet_v2, MINI_XCEPTION: mini_xception}[name](keras)
    _randomise_batchnorm(keras, model, seed)
    os.makedirs(out_dir, exist_ok=True)
    partial = path + ".partial.onnx"
    from_keras(model, partial, verify=False)
    os.replace(partial, path)
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    args = parser.parse_args()
    for name in (MOBILENET_V2, MINI_XCEPTION):
        print(export(name, args.out_dir))
