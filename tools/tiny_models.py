"""Small ONNX classifiers built directly with onnx.helper, seeded, for tests and
benchmarks that must not need a deep-learning framework.

- random_classifier: Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm with
  seeded random weights: shapes, batching, metadata, speed.
- photo_classifier: the same trunk with a nearest-centroid head fitted on views
  of real photographs, so it names what is in a frame (cat vs coffee) for
  end-to-end checks of the whole flow.
- channel_means: logits are the mean of each input channel, so the top label
  says which colour the runtime really fed the model.
- sensor_channel_means: the same for sensor windows: the top label names the
  channel whose normalised samples are largest over the window.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeinfer.metadata import ImageInput, ModelInfo, SensorInput, write_info

OPSET = 13


def _graph(nodes, weights, size, channels, classes, batch, layout="nchw", dtype="float32",
           output="scores"):
    elem = TensorProto.UINT8 if dtype == "uint8" else TensorProto.FLOAT
    height, width = size
    shape = [batch, channels, height, width] if layout == "nchw" else [batch, height, width,
                                                                       channels]
    inputs = [helper.make_tensor_value_info("image", elem, shape)]
    outputs = [helper.make_tensor_value_info(output, TensorProto.FLOAT, [batch, classes])]
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), name)
             for name, v in weights.items()]
    graph = helper.make_graph(nodes, "classifier", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edgeinfer-tools")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _trunk_nodes(layout):
    nodes = []
    source = "image"
    if layout == "nhwc":
        nodes.append(helper.make_node("Transpose", ["image"], ["image_nchw"], perm=[0, 3, 1, 2]))
        source = "image_nchw"
    nodes += [
        helper.make_node("Conv", [source, "conv_w", "conv_b"], ["conv"], kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["features"]),
    ]
    return nodes


def _trunk_weights(rng, channels, features):
    return {"conv_w": rng.normal(0, 0.5, (features, channels, 3, 3)),
            "conv_b": rng.normal(0, 0.1, (features,))}


def image_info(labels, size, output="logits", layout="nchw", color="rgb", **image):
    settings = dict(size=tuple(size), layout=layout, color=color, mean=(127.5,) * 3,
                    std=(127.5,) * 3)
    settings.update(image)
    return ModelInfo(labels=list(labels), input_name="image", image=ImageInput(**settings),
                     output=output,
                     source={"framework": "onnx.helper", "file": "tools/tiny_models.py"})


def random_classifier(labels, size=(32, 32), seed=0, features=8, batch="N", output="logits",
                      layout="nchw", color="rgb", metadata=True, **image):
    """A seeded random Conv/Relu/Pool/Gemm classifier over len(labels) classes."""
    rng = np.random.default_rng(seed)
    channels = 1 if color == "gray" else 3
    weights = _trunk_weights(rng, channels, features)
    weights["fc_w"] = rng.normal(0, 1.0, (features, len(labels)))
    weights["fc_b"] = rng.normal(0, 0.1, (len(labels),))
    nodes = _trunk_nodes(layout) + [helper.make_node("Gemm", ["features", "fc_w", "fc_b"],
                                                     ["logits"])]
    if output == "probabilities":
        nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], axis=1))
    else:
        nodes.append(helper.make_node("Identity", ["logits"], ["scores"]))
    model = _graph(nodes, weights, size, channels, len(labels), batch, layout)
    if metadata:
        write_info(model, image_info(labels, size, output, layout, color, **image))
    return model


def _features(model_trunk, tensors):
    import onnxruntime as ort

    session = ort.InferenceSession(model_trunk.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"image": t})[0] for t in tensors])


def photo_classifier(views, size=(64, 64), seed=0, features=16, sharpness=None):
    """A classifier over the keys of `views` ({label: [BGR frames]}): a seeded
    random trunk, then a head that scores each class by the negative squared
    distance of a frame's features to the mean features of that class's views."""
    import edgeinfer

    rng = np.random.default_rng(seed)
    labels = list(views)
    weights = _trunk_weights(rng, 3, features)
    info = image_info(labels, size)
    trunk = _graph(_trunk_nodes("nchw"), weights, size, 3, features, "N", output="features")
    prepare = info.image.preprocess_kwargs()
    centroids = np.stack([
        _features(trunk, [edgeinfer.preprocess(v, **prepare) for v in views[label]]).mean(axis=0)
        for label in labels])
    # -|f - c|^2 = 2 f.c - |c|^2 - |f|^2; the last term is the same for every class
    spread = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1).max()
    scale = sharpness if sharpness is not None else 4.0 / max(spread ** 2, 1e-6)
    weights["fc_w"] = (2 * centroids.T) * scale
    weights["fc_b"] = -(centroids ** 2).sum(axis=1) * scale
    nodes = _trunk_nodes("nchw") + [helper.make_node("Gemm", ["features", "fc_w", "fc_b"],
                                                     ["scores"])]
    model = _graph(nodes, weights, size, 3, len(labels), "N")
    write_info(model, info)
    return model


def channel_means(size=(8, 8), color="rgb"):
    """Logits = the mean of each channel of the model's input (0..1), labelled
    with the colour order the metadata asks for."""
    nodes = [helper.make_node("GlobalAveragePool", ["image"], ["pool"]),
             helper.make_node("Flatten", ["pool"], ["logits"]),
             helper.make_node("Mul", ["logits", "gain"], ["scores"])]
    # a large gain makes softmax pick the brightest channel decisively
    model = _graph(nodes, {"gain": np.array([20.0])}, size, 3, 3, "N")
    names = {"r": "red", "g": "green", "b": "blue"}
    write_info(model, image_info([names[c] for c in color], size, color=color,
                                 mean=(0.0,) * 3, std=(255.0,) * 3))
    return model


def sensor_channel_means(channels=("ax", "ay", "az"), window=8, hop=8, layout="ncw",
                         mean=None, std=None, sample_rate=None):
    """(N, channels, window) or (N, window, channels) -> logits = each channel's
    mean over the window; labels are the channel names."""
    count = len(channels)
    if layout == "ncw":
        shape, axis = ["N", count, window], 2
    else:
        shape, axis = ["N", window, count], 1
    nodes = [helper.make_node("ReduceMean", ["window"], ["means"], axes=[axis], keepdims=0),
             helper.make_node("Mul", ["means", "gain"], ["scores"])]
    graph = helper.make_graph(
        nodes, "sensor", [helper.make_tensor_value_info("window", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", count])],
        [numpy_helper.from_array(np.array([20.0], np.float32), "gain")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edgeinfer-tools")
    model.ir_version = 8
    onnx.checker.check_model(model)
    sensor = SensorInput(window=window, hop=hop, channels=list(channels),
                         mean=list(mean or [0.0] * count), std=list(std or [1.0] * count),
                         layout=layout, sample_rate=sample_rate)
    write_info(model, ModelInfo(task="sensor-classification", labels=list(channels),
                                input_name="window", sensor=sensor, output="logits"))
    return model


def save(model, path):
    onnx.save(model, str(path))
    return str(path)


# MobileNet v1's body: (output channels, stride) of each depthwise-separable block
MOBILENET_V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + \
    [(512, 1)] * 5 + [(1024, 2), (1024, 1)]


def mobilenet_like(classes=1000, size=224, width=1.0, seed=0, labels=None):
    """A MobileNet v1-shaped network (Conv/BatchNorm folded/Relu, depthwise-separable
    blocks, pool, Gemm) with seeded random weights: the cost of a real edge
    classifier (about 570 MFLOPs at width 1.0 and 224x224) without its training."""
    rng = np.random.default_rng(seed)
    weights, nodes = {}, []

    def conv(name, source, cin, cout, kernel, stride, group=1):
        fan_in = cin // group * kernel * kernel
        weights[f"{name}_w"] = rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // group, kernel,
                                                                      kernel))
        weights[f"{name}_b"] = np.zeros(cout)
        pad = kernel // 2
        nodes.append(helper.make_node("Conv", [source, f"{name}_w", f"{name}_b"], [name],
                                      kernel_shape=[kernel, kernel], strides=[stride, stride],
                                      pads=[pad] * 4, group=group))
        nodes.append(helper.make_node("Relu", [name], [f"{name}_relu"]))
        return f"{name}_relu"

    channels = max(8, int(32 * width))
    x = conv("stem", "image", 3, channels, 3, 2)
    for i, (out, stride) in enumerate(MOBILENET_V1_BLOCKS):
        out = max(8, int(out * width))
        x = conv(f"dw{i}", x, channels, channels, 3, stride, group=channels)
        x = conv(f"pw{i}", x, channels, out, 1, 1)
        channels = out
    weights["fc_w"] = rng.normal(0, np.sqrt(1.0 / channels), (channels, classes))
    weights["fc_b"] = np.zeros(classes)
    nodes += [helper.make_node("GlobalAveragePool", [x], ["pool"]),
              helper.make_node("Flatten", ["pool"], ["features"]),
              helper.make_node("Gemm", ["features", "fc_w", "fc_b"], ["scores"])]
    model = _graph(nodes, weights, (size, size), 3, classes, "N")
    labels = labels or [f"class {i}" for i in range(classes)]
    from edgeinfer import IMAGENET_MEAN, IMAGENET_STD
    write_info(model, image_info(labels, (size, size), crop=0.875, mean=IMAGENET_MEAN,
                                 std=IMAGENET_STD))
    return model
