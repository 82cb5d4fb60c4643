"""A trained head as ONNX nodes on the trunk's embedding, ending in a Softmax
named OUTPUT, and the trunk + head joined into one model. Only operators both
backends run (the native one has no TopK or ArgMax): Gemm, MatMul, Sub, Mul,
Add, Sqrt, Div, Reshape, ReduceMax, Concat, Softmax.

  softmax: Gemm(embedding, W, b) -> Softmax
  ncm:     centre, normalise -> MatMul(class mean directions) -> Mul(SCALE) -> Softmax
  knn:     centre, normalise -> MatMul(every stored embedding, classes x width of them)
           -> Reshape (N, classes, width) -> ReduceMax over width -> Mul(SCALE) -> Softmax
  added:   Gemm(base layer) -> logits; per added class, the best of them + SCALE *
           (1 - squared distance to its centre / radius^2) -> Concat -> Softmax
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
        _reduce_max(nodes, inits, "head_per_class", "head_similarity", 2, 0, opset,
                    "head_nearest")
        logits = _scaled(nodes, inits, "head_similarity")
    elif head.kind == "added":
        logits = _added_classes(nodes, inits, x, head, opset)
    else:
        raise ValueError(f"unknown head kind {head.kind!r}")
    nodes.append(helper.make_node("Softmax", [logits], [OUTPUT], axis=1, name="head_softmax"))
    return nodes, inits


def _reduce_max(nodes, inits, x, out, axis, keepdims, opset, name):
    from onnx import helper

    if opset >= 18:
        nodes.append(helper.make_node("ReduceMax", [x, _constant(
            inits, f"{name}_axis", np.array([axis], np.int64))], [out], keepdims=keepdims,
            name=name))
    else:
        nodes.append(helper.make_node("ReduceMax", [x], [out], axes=[axis], keepdims=keepdims,
                                      name=name))


def _added_classes(nodes, inits, x, head, opset):
    """The base layer's logits, then each added class's best base logit +
    SCALE * (1 - |x - centre|^2 / radius^2), the squared distance as
    |x|^2 - 2 x.centre + |centre|^2."""
    from onnx import helper

    centres = head.centres.astype(np.float64)
    dims = centres.shape[1]
    inverse = (SCALE / head.radii.astype(np.float64) ** 2)
    nodes += [
        helper.make_node("Gemm", [x, _constant(inits, "head_weights", head.base_weights),
                                  _constant(inits, "head_bias", head.base_bias)],
                         ["head_base_logits"], name="head"),
        helper.make_node("Mul", [x, x], ["head_squares"], name="head_squares"),
        helper.make_node("MatMul", ["head_squares", _constant(inits, "head_ones",
                                                              np.ones((dims, 1), np.float32))],
                         ["head_norm2"], name="head_sum_squares"),
        helper.make_node("Gemm", [x, _constant(inits, "head_minus_2_centres",
                                               (-2 * centres.T).astype(np.float32)),
                                  _constant(inits, "head_centre_norm2",
                                            (centres * centres).sum(axis=1).astype(np.float32))],
                         ["head_cross"], name="head_cross"),
        helper.make_node("Add", ["head_norm2", "head_cross"], ["head_distance2"],
                         name="head_distance2"),
        helper.make_node("Mul", ["head_distance2", _constant(
            inits, "head_minus_scale_over_radius2", (-inverse).astype(np.float32))],
            ["head_shortfall"], name="head_shortfall"),
    ]
    _reduce_max(nodes, inits, "head_base_logits", "head_base_best", 1, 1, opset, "head_base_best")
    nodes += [
        helper.make_node("Add", ["head_base_best", _constant(inits, "head_scale",
                                                             np.array(SCALE, np.float32))],
                         ["head_best_plus_scale"], name="head_best_plus_scale"),
        helper.make_node("Add", ["head_best_plus_scale", "head_shortfall"], ["head_added_logits"],
                         name="head_added"),
        helper.make_node("Concat", ["head_base_logits", "head_added_logits"], ["head_logits"],
                         axis=1, name="head_all_logits"),
    ]
    return "head_logits"


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
