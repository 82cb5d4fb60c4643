"""Where a classifier's embedding is and the trunk that computes it: the
graph cut at that tensor, whose one output is the embedding flattened to
(N, D).

The embedding is the input of the final Gemm/MatMul: walking back from the
scores output through the ops a classifier puts after its last layer
(Softmax, a bias Add, reshapes), the first Gemm or MatMul with constant
weights is the classifier layer and its data input is the embedding.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import ModelError

EMBEDDING = "embedding"
BASE_EMBEDDING = "embedding_in_base"   # a base tensor that had the trunk output's name
# what a classifier may put between its last layer and the scores output
AFTER_LAST_LAYER = {"Softmax", "LogSoftmax", "Identity", "Dropout", "Reshape", "Flatten",
                    "Squeeze", "Unsqueeze", "Cast", "Add"}


@dataclass
class LastLayer:
    """The base model's classifier layer: scores = embedding @ weights + bias."""
    weights: np.ndarray          # (D, classes)
    bias: np.ndarray             # (classes,)


@dataclass
class Cut:
    tensor: str                          # the embedding tensor's name in the base graph
    last_layer: Optional[LastLayer]      # None for a --cut elsewhere


def _constants(graph):
    from onnx import numpy_helper

    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def _attr(node, name, default):
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _last_layer(node, constants, bias_after):
    """The affine map of a Gemm/MatMul node with constant weights, as (D, C) and (C,)."""
    if node.op_type == "MatMul":
        weights = constants[node.input[1]].astype(np.float32)
        bias = np.zeros(weights.shape[1], np.float32)
    else:
        if _attr(node, "transA", 0):
            return None
        weights = constants[node.input[1]].astype(np.float32)
        if _attr(node, "transB", 0):
            weights = weights.T
        weights = weights * np.float32(_attr(node, "alpha", 1.0))
        bias = np.zeros(weights.shape[1], np.float32)
        if len(node.input) > 2 and node.input[2]:
            if node.input[2] not in constants:
                return None
            bias = bias + np.float32(_attr(node, "beta", 1.0)) * np.broadcast_to(
                constants[node.input[2]], (weights.shape[1],)).astype(np.float32)
    for addend in bias_after:
        bias = bias + np.broadcast_to(addend, bias.shape).astype(np.float32)
    if weights.ndim != 2:
        return None
    return LastLayer(np.ascontiguousarray(weights), np.ascontiguousarray(bias))


def find_embedding(model, output_name=None, origin="the model"):
    """The Cut at the input of the final Gemm/MatMul before the scores output,
    or a ModelError saying to give --cut."""
    graph = model.graph
    constants = _constants(graph)
    producer = {out: node for node in graph.node for out in node.output}
    name = output_name or graph.output[0].name
    bias_after = []
    while name in producer:
        node = producer[name]
        if node.op_type in ("Gemm", "MatMul") and len(node.input) > 1 \
                and node.input[1] in constants:
            layer = _last_layer(node, constants, bias_after)
            if layer is not None:
                return Cut(node.input[0], layer)
            break
        if node.op_type not in AFTER_LAST_LAYER:
            break
        data = [i for i in node.input if i and i not in constants]
        if node.op_type == "Add":
            bias_after.extend(constants[i] for i in node.input if i in constants)
        if len(data) != 1:
            break
        name = data[0]
    candidates = ", ".join(node.output[0] for node in graph.node[-6:-1] if node.output)
    raise ModelError(f"{origin} has no identifiable embedding (no Gemm/MatMul with constant "
                     f"weights feeds its scores output): name the tensor to cut at with --cut "
                     f"TENSOR (its last tensors: {candidates}; `edgeinfer inspect` lists more)")


def check_cut(model, tensor, origin="the model"):
    """A Cut for a tensor the user named; ModelError when the graph has none such."""
    names = {out for node in model.graph.node for out in node.output}
    if tensor not in names:
        raise ModelError(f"{origin} has no tensor {tensor!r} to cut at: give the name of a node "
                         "output (`edgeinfer inspect` lists the graph)")
    found = None
    try:
        found = find_embedding(model, origin=origin)
    except ModelError:
        pass
    layer = found.last_layer if found is not None and found.tensor == tensor else None
    return Cut(tensor, layer)


def default_cut(model, output_name=None, personalized=False, origin="the model"):
    """Where to cut when the user names no tensor: a personalised file at the
    embedding its trunk ends in, whatever its head; any other model at the input
    of its final Gemm/MatMul."""
    if personalized and any(EMBEDDING in node.output for node in model.graph.node):
        return check_cut(model, EMBEDDING, origin)
    return find_embedding(model, output_name, origin)


def trunk_model(model, tensor):
    """A copy of model computing only what `tensor` needs, with one output:
    `tensor` flattened to (N, D) and named EMBEDDING."""
    import onnx
    from onnx import helper

    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    needed, stack, keep = set(), [tensor], []
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        if name in producer:
            stack.extend(i for i in producer[name].input if i)
    keep = [node for node in graph.node if any(out in needed for out in node.output)]
    initializers = [t for t in graph.initializer if t.name in needed]
    inputs = [i for i in graph.input if i.name in needed and
              i.name not in {t.name for t in initializers}]
    if _is_flat_embedding(producer.get(tensor), tensor):
        # a personalised file's own embedding: its trunk is already there, whole
        flatten = []
    else:
        if EMBEDDING in needed:
            # the trunk's output name is taken upstream of the cut: rename that one
            keep = _renamed(keep, EMBEDDING, BASE_EMBEDDING)
            tensor = BASE_EMBEDDING if tensor == EMBEDDING else tensor
        flatten = [helper.make_node("Flatten", [tensor], [EMBEDDING], axis=1,
                                    name="embedding_flatten")]
    output = helper.make_tensor_value_info(EMBEDDING, onnx.TensorProto.FLOAT, None)
    trunk = helper.make_graph(keep + flatten, f"{graph.name or 'model'}_trunk", inputs,
                              [output], initializer=initializers,
                              value_info=[v for v in graph.value_info
                                          if v.name in needed and v.name != EMBEDDING])
    result = helper.make_model(trunk, opset_imports=list(model.opset_import),
                               producer_name="edgeinfer personalize")
    result.ir_version = model.ir_version
    return result


def _is_flat_embedding(node, tensor):
    """Whether tensor is the (N, D) embedding a trunk made by trunk_model ends in."""
    return tensor == EMBEDDING and node is not None and node.op_type == "Flatten" \
        and _attr(node, "axis", 1) == 1


def _renamed(nodes, old, new):
    """Copies of nodes with the tensor `old` called `new`."""
    from onnx import NodeProto

    result = []
    for node in nodes:
        copy = NodeProto()
        copy.CopyFrom(node)
        for names in (copy.input, copy.output):
            for i, name in enumerate(names):
                if name == old:
                    names[i] = new
        result.append(copy)
    return result


def opset_of(model):
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
