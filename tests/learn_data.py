"""Real data and a small seeded base model for the learn-side tests:
scikit-learn's 8x8 handwritten digits (1797 real scans), and a two-layer
network trained here in numpy on digits 0-4 only, written as an edgeinfer
ONNX file (8x8 grey image in, Flatten -> Gemm -> Relu -> Gemm -> Softmax),
whose 48-wide hidden layer is the embedding the new heads learn from."""
import os

import numpy as np

BASE_DIGITS = (0, 1, 2, 3, 4)
HIDDEN = 48


def digits():
    """(images as uint8 8x8 in 0..255, labels), all 1797."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images = np.clip(np.round(data.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    return images, data.target


def _train_mlp(x, y, classes, seed=0, steps=300):
    """A seeded two-layer network by full-batch Adam on softmax cross-entropy."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], HIDDEN)), np.zeros(HIDDEN),
              rng.normal(0, np.sqrt(1 / HIDDEN), (HIDDEN, classes)), np.zeros(classes)]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    onehot = np.eye(classes)[y]
    for step in range(1, steps + 1):
        w1, b1, w2, b2 = params
        h = np.maximum(x @ w1 + b1, 0)
        z = h @ w2 + b2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        dz = (p - onehot) / len(x)
        dh = (dz @ w2.T) * (h > 0)
        grads = [x.T @ dh + 1e-4 * w1, dh.sum(0), h.T @ dz + 1e-4 * w2, dz.sum(0)]
        for p_, g, m in zip(params, grads, moments):
            m[0] = 0.9 * m[0] + 0.1 * g
            m[1] = 0.999 * m[1] + 0.001 * g * g
            p_ -= 0.01 * (m[0] / (1 - 0.9 ** step)) / (np.sqrt(m[1] / (1 - 0.999 ** step)) + 1e-8)
    return [p.astype(np.float32) for p in params]


def write_base_model(path, seed=0):
    """The base classifier of digits 0-4 (half of their scans), as an edgeinfer
    image model: 8x8 grey, pixels / 255."""
    import onnx
    from onnx import helper, numpy_helper

    from edgeinfer.metadata import ImageInput, ModelInfo, write_info

    images, labels = digits()
    chosen = np.isin(labels, BASE_DIGITS) & (np.arange(len(labels)) % 2 == 0)
    x = images[chosen].reshape(-1, 64) / 255.0
    w1, b1, w2, b2 = _train_mlp(x, labels[chosen], len(BASE_DIGITS), seed)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"),
              (np.array([-1, 64], np.int64), "flat_shape"))]
    nodes = [helper.make_node("Reshape", ["input", "flat_shape"], ["pixels"], name="flatten"),
             helper.make_node("Gemm", ["pixels", "w1", "b1"], ["hidden_pre"], name="dense1"),
             helper.make_node("Relu", ["hidden_pre"], ["hidden"], name="relu1"),
             helper.make_node("Gemm", ["hidden", "w2", "b2"], ["logits"], name="dense2"),
             helper.make_node("Softmax", ["logits"], ["output"], axis=1, name="softmax")]
    graph = helper.make_graph(
        nodes, "digits_base",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["N", 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    write_info(model, ModelInfo(
        labels=[str(d) for d in BASE_DIGITS], input_name="input", output="probabilities",
        image=ImageInput(size=(8, 8), color="gray", mean=(0.0,) * 3, std=(255.0,) * 3),
        source={"framework": "numpy", "model": "digits 0-4 MLP (tests)"}))
    onnx.save(model, path)
    return path


def write_class_folders(root, images, labels, names=None):
    """DATA/<label>/NNNN.png for each image, as collect writes them."""
    import cv2

    for i, (image, label) in enumerate(zip(images, labels)):
        name = names[label] if names else str(label)
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        cv2.imwrite(os.path.join(folder, f"{i:04d}.png"), image)
    return root


def few_shot_split(labels, digits_wanted, shots, seed=0):
    """Indices of `shots` training scans per digit (from the half the base never
    saw) and every other scan of those digits as the test set."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for d in digits_wanted:
        members = np.flatnonzero((labels == d) & (np.arange(len(labels)) % 2 == 1))
        members = rng.permutation(members)
        train.extend(members[:shots])
        test.extend(members[shots:])
    return np.asarray(train), np.asarray(test)
