"""Small seeded ONNX CNNs built with onnx.helper (no framework needed), each
shaped like a family of real exports: for checking and timing backends."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.count = 0

    def name(self, stem):
        self.count += 1
        return f"{stem}{self.count}"

    def const(self, value, stem="c"):
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, *shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        scale = scale or 1.0 / np.sqrt(fan_in)
        return self.const((self.rng.standard_normal(shape) * scale).astype(np.float32), "w")

    def node(self, op, inputs, outputs=1, **attrs):
        names = [self.name(op.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, names, **attrs))
        return names[0] if outputs == 1 else names

    def conv(self, x, cin, cout, k, stride=1, pads=None, groups=1, bias=True, **attrs):
        inputs = [x, self.weight(cout, cin // groups, k, k)]
        if bias:
            inputs.append(self.const((self.rng.standard_normal(cout) * 0.1).astype(np.float32)))
        if pads is not None:
            attrs["pads"] = pads
        return self.node("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride],
                         group=groups, **attrs)

    def batchnorm(self, x, channels):
        r = self.rng
        params = [r.uniform(0.5, 1.5, channels), r.standard_normal(channels) * 0.1,
                  r.standard_normal(channels) * 0.1, r.uniform(0.5, 1.5, channels)]
        return self.node("BatchNormalization",
                         [x] + [self.const(p.astype(np.float32)) for p in params], epsilon=1e-3)

    def model(self, inputs, outputs, opset=14):
        graph = helper.make_graph(self.nodes, "net", inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def image_input(shape, name="image"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def output(name, rank=2):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [None] * rank)


def mobile_cnn(seed=0, size=32, classes=10, batch=1):
    """MobileNet-like: Conv+BN+Relu, MaxPool, depthwise + Clip(0, 6), an
    inverted residual with Add, squeeze-excitation (Sigmoid, Mul),
    HardSwish, AveragePool, GlobalAveragePool, Flatten, Gemm, Softmax."""
    b = Builder(seed)
    x = b.node("Relu", [b.batchnorm(b.conv("image", 3, 16, 3, 2, [1, 1, 1, 1], bias=False), 16)])
    x = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    y = b.node("Clip", [b.conv(x, 16, 16, 3, 1, [1, 1, 1, 1], groups=16),
                        b.const(np.float32(0)), b.const(np.float32(6))])
    y = b.batchnorm(b.conv(y, 16, 16, 1), 16)
    x = b.node("Add", [x, y])
    squeeze = b.node("GlobalAveragePool", [x])
    excite = b.node("Sigmoid", [b.conv(b.node("Relu", [b.conv(squeeze, 16, 4, 1)]), 4, 16, 1)])
    x = b.node("Mul", [x, excite])
    x = b.node("HardSwish", [b.conv(x, 16, 24, 3, 2, [0, 0, 1, 1])])
    x = b.node("AveragePool", [x], kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1],
               count_include_pad=0)
    x = b.node("LeakyRelu", [b.conv(x, 24, 32, 1)], alpha=0.1)
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    x = b.node("Gemm", [x, b.weight(classes, 32), b.const(np.zeros(classes, np.float32))],
               transB=1)
    b.node("Softmax", [x], axis=-1)
    return b.model([image_input((batch, 3, size, size))], [output(b.nodes[-1].output[0])])


def legacy_same_padding_cnn(seed=1, size=33):
    """The pattern PyTorch's legacy exporter writes for TF-style SAME
    padding: the pads are computed from Shape(x) at run time (Gather, Sub,
    Div, Concat, Cast, ConstantOfShape, Slice), then Pad, then a VALID Conv."""
    b = Builder(seed)
    i64 = np.int64
    x = "image"
    for cin, cout, stride in ((3, 8, 2), (8, 8, 1)):
        shape = b.node("Shape", [x])
        sizes = [b.node("Gather", [shape, b.const(i64(axis))], axis=0) for axis in (2, 3)]
        pads = []
        for size_name in sizes:
            out = b.node("Div", [b.node("Add", [size_name, b.const(i64(stride - 1))]),
                                 b.const(i64(stride))])
            need = b.node("Sub", [b.node("Add", [b.node("Mul", [b.node("Sub", [
                out, b.const(i64(1))]), b.const(i64(stride))]), b.const(i64(3))]), size_name])
            need = b.node("Max", [need, b.const(i64(0))])
            before = b.node("Div", [need, b.const(i64(2))])
            pads.append((before, b.node("Sub", [need, before])))
        zeros = b.node("ConstantOfShape", [b.const(np.array([2], i64))],
                       value=numpy_helper.from_array(np.array([0], i64)))
        unsq = [b.node("Unsqueeze", [p, b.const(np.array([0], i64))]) for pair in pads
                for p in pair]
        all_pads = b.node("Concat", [zeros, unsq[0], unsq[2], zeros, unsq[1], unsq[3]], axis=0)
        all_pads = b.node("Cast", [b.node("Slice", [all_pads, b.const(np.array([0], i64)),
                                                    b.const(np.array([8], i64))])],
                          to=TensorProto.INT64)
        padded = b.node("Pad", [x, all_pads, b.const(np.float32(0))], mode="constant")
        x = b.node("Relu", [b.batchnorm(b.conv(padded, cin, cout, 3, stride), cout)])
    x = b.node("ReduceMean", [x], axes=[2, 3], keepdims=0)
    b.node("MatMul", [x, b.weight(8, 5)])
    return b.model([image_input((1, 3, size, size))], [output(b.nodes[-1].output[0])])


def keras_style_cnn(seed=2, size=24):
    """A Keras export's shape: NHWC input, a Transpose into NCHW for the
    convolutions, layout round trips between them, ReduceMean over the NHWC
    spatial axes, a Reshape and MatMul + Add head, Concat of two branches."""
    b = Builder(seed)
    x = b.node("Transpose", ["image"], perm=[0, 3, 1, 2])
    x = b.node("Relu", [b.conv(x, 3, 8, 3, 1, auto_pad="SAME_UPPER")])
    # a round trip to NHWC and back, as converters leave around fixed layouts
    x = b.node("Transpose", [b.node("Transpose", [x], perm=[0, 2, 3, 1])], perm=[0, 3, 1, 2])
    left = b.node("Clip", [b.conv(x, 8, 8, 3, 2, auto_pad="SAME_LOWER"),
                           b.const(np.float32(0)), b.const(np.float32(6))])
    right = b.conv(b.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2]), 8, 8, 1)
    x = b.node("Concat", [left, right], axis=1)
    x = b.node("Div", [b.node("Sub", [x, b.const(np.float32(0.5))]), b.const(np.float32(2.0))])
    nhwc = b.node("Transpose", [x], perm=[0, 2, 3, 1])
    pooled = b.node("ReduceMean", [nhwc], axes=[1, 2], keepdims=1)
    flat = b.node("Reshape", [pooled, b.const(np.array([-1, 16], np.int64))])
    logits = b.node("Add", [b.node("MatMul", [flat, b.weight(16, 4)]),
                            b.const(np.linspace(-1, 1, 4).astype(np.float32))])
    b.node("Softmax", [logits], axis=1)
    return b.model([image_input((1, size, size, 3))], [output(b.nodes[-1].output[0])])


def sensor_cnn(seed=3, channels=6, length=100, classes=4):
    """A 1-D CNN over a window of accelerometer + gyroscope samples."""
    b = Builder(seed)
    x = b.node("Conv", ["window", b.weight(16, channels, 5)], kernel_shape=[5], pads=[2, 2])
    x = b.node("MaxPool", [b.node("Relu", [x])], kernel_shape=[2], strides=[2])
    x = b.node("Conv", [x, b.weight(16, 4, 3), b.const(np.zeros(16, np.float32))],
               kernel_shape=[3], group=4, dilations=[2], pads=[2, 2])
    x = b.node("Squeeze", [b.node("GlobalAveragePool", [b.node("Tanh", [x])]),
                           b.const(np.array([2], np.int64))])
    b.node("Gemm", [x, b.weight(16, classes)], alpha=0.5)
    return b.model([image_input((1, channels, length), "window")],
                   [output(b.nodes[-1].output[0])])


MODELS = {"mobile_cnn": mobile_cnn, "legacy_same_padding_cnn": legacy_same_padding_cnn,
          "keras_style_cnn": keras_style_cnn, "sensor_cnn": sensor_cnn}
