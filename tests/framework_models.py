"""Small, seeded, real framework models for the converter tests, and the
helpers that run the converted file the way the runtime will."""
import json
import os

import numpy as np

SIZE = 32


def keras_sequential(classes=4, softmax=True):
    import keras

    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((SIZE, SIZE, 3)),
        keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        keras.layers.DepthwiseConv2D(3, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(6.0),
        keras.layers.MaxPooling2D(2),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(classes, activation="softmax" if softmax else None),
    ], name="small_sequential")


def keras_functional(classes=3):
    """Two branches joined by Add and Concatenate, logits out."""
    import keras

    keras.utils.set_random_seed(2)
    image = keras.Input((SIZE, SIZE, 3), name="image")
    x = keras.layers.Rescaling(1 / 255.0)(image)
    a = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(x)
    b = keras.layers.Conv2D(6, 1, padding="same")(x)
    x = keras.layers.Add()([a, b])
    c = keras.layers.AveragePooling2D(2)(x)
    d = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Concatenate()([c, d])
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(image, keras.layers.Dense(classes)(x), name="small_functional")




def save_teachable_machine_h5(directory, classes=("Cat", "Coffee", "Background")):
    """A model shaped like Teachable Machine's export: a Sequential of a
    MobileNet-style feature Sequential and a softmax head, saved as
    keras_model.h5 with `groups: 1` in its DepthwiseConv2D configs (as the
    Keras 2 that Teachable Machine uses writes them), and labels.txt of
    "0 Name" lines beside it."""
    import h5py
    import keras

    keras.utils.set_random_seed(3)
    features = keras.Sequential([
        keras.Input((SIZE, SIZE, 3)),
        keras.layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(6.0),
        keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(6.0),
        keras.layers.Conv2D(16, 1, use_bias=False),
        keras.layers.GlobalAveragePooling2D(),
    ], name="sequential_1")
    head = keras.Sequential([keras.Input((16,)), keras.layers.Dense(10, activation="relu"),
                             keras.layers.Dense(len(classes), activation="softmax")],
                            name="sequential_3")
    model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), features, head], name="sequential_4")
    path = os.path.join(directory, "keras_model.h5")
    model.save(path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        patched = _add_groups(config)
        assert patched, "the fixture must carry DepthwiseConv2D layers"
        f.attrs["model_config"] = json.dumps(config)
    with open(os.path.join(directory, "labels.txt"), "w") as f:
        f.write("".join(f"{i} {name}\n" for i, name in enumerate(classes)))
    return model, path


def _add_groups(config):
    count = 0
    if isinstance(config, dict):
        if config.get("class_name") == "DepthwiseConv2D":
            config["config"]["groups"] = 1
            count += 1
        for value in config.values():
            count += _add_groups(value)
    elif isinstance(config, list):
        for value in config:
            count += _add_groups(value)
    return count


def torch_cnn(classes=5, trained_steps=3):
    """Conv + BatchNorm + Dropout, left in training mode after a few steps so
    its running statistics differ from the batch statistics."""
    import torch

    torch.manual_seed(4)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=8), torch.nn.BatchNorm2d(16),
        torch.nn.ReLU6(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Dropout(0.5), torch.nn.Linear(16, classes))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(trained_steps):
        x = torch.randn(8, 3, SIZE, SIZE) * 2 + 0.5
        loss = model(x).logsumexp(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def run_onnx(path, x):
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def read_metadata(path):
    import onnx

    from edgeinfer.metadata import read_info

    return read_info(onnx.load(path), path)


def frames(count=3, seed=7):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size=(rng.integers(40, 120), rng.integers(40, 120), 3),
                         dtype=np.uint8) for _ in range(count)]


def runtime_inputs(info, images=()):
    """Tensors the runtime would feed: frames through the declared preprocessing."""
    import edgeinfer
    from edgeinfer.media import read_image

    sources = frames() + [read_image(p) for p in images]
    return [edgeinfer.preprocess(f, **info.image.preprocess_kwargs()) for f in sources]
