"""A trained head as ONNX nodes on the trunk's embedding, ending in a Softmax
named OUTPUT, and the trunk + head joined into one model. Only operators both
backends run (the native one has no TopK or ArgMax): Gemm, MatMul, Sub, Mul,
Add, Sqrt, Div, Reshape, ReduceMax, Softmax.

  softmax: Gemm(embedding, W, b) -> Softmax
  ncm:     centre, normalise -> MatMul(class mean directions) -> Mul(SCALE) -> Softmax
  knn:     centre, normalise -> MatMul(every stored embedding, classes x width of them)
           -> Reshape (N, classes, width) -> ReduceMax over width -> Mul(SCALE) -> Softmax
"""
from __future__ import annotations

import numpy as np

from .heads import SCALE
from .trunk import EMBEDDING

OUTPUT = "probabilities"


def _constant(initializers, name, array):
    from onnx import numpy_helper

    initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
    return name


def _unit(nodes, initializers, x, mean):
    """Nodes for (x - mean) / |x - mean| along axis 1; the squared norm as a
    MatMul with a column of ones, which every opset spells the same way."""
    from onnx import helper

    dims = len(mean)
    nodes += [
        helper.make_node("Sub", [x, _constant(initializers, "head_mean", mean.astype(np.float32))],
                         ["head_centred"], name="head_centre"),
        helper.make_node("Mul", ["head_centred", "head_centred"], ["head_squares"],
                         name="head_squares"),
        helper.make_node("MatMul", ["head_squares", _constant(initializers, "head_ones",
                                                              np.ones((dims, 1), np.float32))],
                         ["head_norm2"], name="head_sum_squares"),
        helper.make_node("Add", ["head_norm2", _constant(initializers, "head_eps",
                                                         np.array(1e-12, np.float32))],
                         ["head_norm2_eps"], name="head_norm_eps"),
        helper.make_node("Sqrt", ["head_norm2_eps"], ["head_norm"], name="head_norm"),
        helper.make_node("Div", ["head_centred", "head_norm"], ["head_unit"], name="head_unit"),
    ]
    return "head_unit"


def head_nodes(head, opset, x=EMBEDDING):
    """(nodes, initializers) computing head.scores on tensor x, output OUTPUT."""
    from onnx import helper

    nodes, inits = [], []
    if head.kind == "softmax":
        nodes.append(helper.make_node(
            "Gemm", [x, _constant(inits, "head_weights", head.weights),
                     _constant(inits, "head_bias", head.bias)], ["head_logits"], name="head"))
        logits = "head_logits"
    elif head.kind == "ncm":
        unit = _unit(nodes, inits, x, head.mean)
        nodes.append(helper.make_node("MatMul", [unit, _constant(inits, "head_centres",
                                                                   head.centres.T)],
                                      ["head_similarity"], name="head_class_means"))
        logits = _scaled(nodes, inits, "head_similarity")
    elif head.kind == "knn":
        classes, width, dims = head.stored.shape
        unit = _unit(nodes, inits, x, head.mean)
        nodes += [
            helper.make_node("MatMul", [unit, _constant(inits, "head_stored",
                                                        head.stored.reshape(-1, dims).T)],
                             ["head_each_similarity"], name="head_stored_embeddings"),
            helper.make_node("Reshape", ["head_each_similarity", _constant(
                inits, "head_per_class_shape", np.array([-1, classes, width], np.int64))],
                ["head_per_class"], name="head_per_class"),
        ]
        if opset >= 18:
            nodes.append(helper.make_node(
                "ReduceMax", ["head_per_class", _constant(inits, "head_width_axis",
                                                          np.array([2], np.int64))],
                ["head_similarity"], keepdims=0, name="head_nearest"))
        else:
            nodes.append(helper.make_node("ReduceMax", ["head_per_class"], ["head_similarity"],
                                          axes=[2], keepdims=0, name="head_nearest"))
        logits = _scaled(nodes, inits, "head_similarity")
    else:
        raise ValueError(f"unknown head kind {head.kind!r}")
    nodes.append(helper.make_node("Softmax", [logits], [OUTPUT], axis=1, name="head_softmax"))
    return nodes, inits


def _scaled(nodes, inits, x):
    from onnx import helper

    nodes.append(helper.make_node("Mul", [x, _constant(inits, "head_scale",
                                                       np.array(SCALE, np.float32))],
                                  ["head_scaled"], name="head_temperature"))
    return "head_scaled"


def join(trunk, head, classes):
    """One model: the trunk's graph with the head on its embedding, whose only
    output is OUTPUT, (N, classes) probabilities."""
    import onnx
    from onnx import helper

    from .trunk import opset_of

    nodes, inits = head_nodes(head, opset_of(trunk))
    graph = onnx.GraphProto()
    graph.CopyFrom(trunk.graph)
    graph.node.extend(nodes)
    graph.initializer.extend(inits)
    del graph.output[:]
    batch = trunk.graph.input[0].type.tensor_type.shape.dim[0]
    graph.output.append(helper.make_tensor_value_info(
        OUTPUT, onnx.TensorProto.FLOAT,
        [batch.dim_value if batch.HasField("dim_value") else "N", classes]))
    model = helper.make_model(graph, opset_imports=list(trunk.opset_import),
                              producer_name="edgeinfer personalize")
    model.ir_version = trunk.ir_version
    return model
