"""Writes tests/data/teachable_machine/: a keras_model.h5 saved by real Keras 2
(the tf-keras package), shaped like Teachable Machine's image export — a
Sequential of [Sequential[functional MobileNet-style features], Sequential[Dense
head with input_shape on its first layer]] — with a labels.txt of "0 Name" lines
and expected.npz: the outputs Keras 2 itself computed for the bundled sample
photos through Teachable Machine's preprocessing (TEACHABLE_MACHINE_INPUT).

Keras 2 writes `groups: 1` into DepthwiseConv2D configs, one-element axis lists
into BatchNormalization and input shapes onto Dense layers; Keras 3 rejects all
three, which is what the converter has to get past. Run once, with tf-keras
installed (it pulls in the full tensorflow package, so it is not a test
dependency):

    pip install tf-keras && python tests/data/make_teachable_machine_h5.py
"""
import os

import numpy as np

import edgeinfer
from edgeinfer.media import DATA_DIR, read_image

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "teachable_machine")
CLASSES = ("Cat", "Coffee", "Background")
SIZE = 224
PHOTOS = ("chelsea.jpg", "coffee.jpg")
# centre square, x / 127.5 - 1, NHWC RGB
TEACHABLE_MACHINE_INPUT = dict(size=(SIZE, SIZE), crop=1.0, mean=(127.5,) * 3, std=(127.5,) * 3,
                               layout="nhwc", color="rgb")


def photo_inputs():
    return np.concatenate([edgeinfer.preprocess(read_image(os.path.join(DATA_DIR, name)),
                                                **TEACHABLE_MACHINE_INPUT) for name in PHOTOS])


def build():
    import tf_keras as keras

    keras.utils.set_random_seed(11)
    image = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, strides=4, padding="same", use_bias=False)(image)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.Conv2D(16, 1, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(6.0)(x)
    features = keras.Model(image, keras.layers.GlobalAveragePooling2D()(x), name="model1")
    head = keras.Sequential([keras.layers.Dense(12, activation="relu", input_shape=(16,)),
                             keras.layers.Dense(len(CLASSES), activation="softmax", use_bias=False)],
                            name="sequential_3")
    model = keras.Sequential([keras.Sequential([features], name="sequential_1"), head],
                             name="sequential_4")
    model.build((None, SIZE, SIZE, 3))
    # trained-looking weights: batch-norm statistics far from their 0/1 defaults
    rng = np.random.default_rng(11)
    weights = []
    for w in model.get_weights():
        values = rng.standard_normal(w.shape).astype(np.float32) * 0.5
        weights.append(np.abs(values) + 0.5 if w.ndim == 1 else values)
    model.set_weights(weights)
    return model


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tf_keras as keras

    os.makedirs(HERE, exist_ok=True)
    model = build()
    model.save(os.path.join(HERE, "keras_model.h5"))
    with open(os.path.join(HERE, "labels.txt"), "w") as f:
        f.write("".join(f"{i} {name}\n" for i, name in enumerate(CLASSES)))
    np.savez(os.path.join(HERE, "expected.npz"), outputs=model.predict(photo_inputs(), verbose=0),
             keras_version=keras.__version__)
    print(f"wrote {HERE} (Keras {keras.__version__})")


if __name__ == "__main__":
    main()
