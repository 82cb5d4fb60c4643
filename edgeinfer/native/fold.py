"""Load-time pass over the graph with every input shape fixed: each tensor's
shape and type become known, and every node whose inputs are all known values
(Shape of a fixed shape, arithmetic on constants, the Shape/Gather/Concat/
Slice/Cast/ConstantOfShape/Pad chains of PyTorch's legacy exporter) is
computed once and becomes a constant."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .errors import ADVICE, NativeModelError, unsupported
from .kernel import Operand
from .ops import OPS

# operators computed at load when their inputs are known; never run per frame
FOLD_ONLY = {"Shape", "Size", "ConstantOfShape", "Range", "Equal", "Less", "Greater", "Not",
             "And", "Or", "Where", "Expand", "Tile", "Mod", "Sign", "Round", "ReduceProd",
             "CumSum", "NonZero", "Xor", "LessOrEqual", "GreaterOrEqual", "Trilu", "ScatterND",
             "GatherElements", "Split", "Einsum", "Sin", "Cos"}


def unknown_operators(graph):
    """Names of the operators in the graph the native backend has no way to run."""
    names = set()
    for node in graph.nodes:
        if node.domain not in ("", "ai.onnx"):
            names.add(f"{node.domain}.{node.op}")
        elif node.op not in OPS and node.op not in FOLD_ONLY:
            names.add(node.op)
    return sorted(names)


def check_operators(graph, origin="the model"):
    names = unknown_operators(graph)
    if names:
        raise NativeModelError(f"{origin} uses operators the native backend does not run: "
                               f"{', '.join(names)}; {ADVICE}")


def _evaluate(node, operands, opset):
    """Outputs of a node whose inputs are all values."""
    values = [None if o is None else o.value for o in operands]
    if node.op == "Shape":
        shape = np.array(operands[0].shape, dtype=np.int64)
        start, end = node.attr("start", 0), node.attr("end")
        return [shape[start:end]]
    if node.op == "Size":
        return [np.array(int(np.prod(operands[0].shape)), dtype=np.int64)]
    if node.op in OPS:
        try:
            kernel = OPS[node.op](node, operands, opset)
        except NativeModelError:
            kernel = None   # e.g. integer Div: the reference below computes it at load
        if kernel is not None and kernel.view_of is not None:
            return [np.asarray(values[kernel.view_of], order="C").reshape(kernel.shapes[0])]
        if kernel is not None:
            outs = [np.empty(shape, dtype) for shape, dtype in zip(kernel.shapes, kernel.dtypes)]
            ins = [None if v is None else np.asarray(v, order="C") for v in values]
            kernel.bind(ins, outs)()
            return outs
    from onnx.reference import ReferenceEvaluator

    feed = {name: value for name, value in zip(node.inputs, values) if name}
    return ReferenceEvaluator(node.proto, opsets={"": opset}).run(None, feed)


def _is_constant_input(node, operands):
    if node.op in ("Shape", "Size"):
        return True
    present = [o for o in operands if o is not None]
    return bool(present) and all(o.constant for o in present)


def fold(graph, input_shapes):
    """(nodes left to run, constants, {tensor: (shape, dtype)}) for inputs of
    the given shapes. Raises NativeModelError for what cannot run."""
    constants = dict(graph.constants)
    info = {name: (tuple(np.shape(v)), np.asarray(v).dtype) for name, v in constants.items()}
    for tensor in graph.inputs:
        info[tensor.name] = (tuple(input_shapes[tensor.name]), tensor.dtype)
    kept = []
    for node in graph.nodes:
        operands = []
        for name in node.inputs:
            if not name:
                operands.append(None)
                continue
            if name not in info:
                raise NativeModelError(f"node {node.name!r} ({node.op}) reads {name!r}, which no "
                                       f"node before it makes; {ADVICE}")
            shape, dtype = info[name]
            operands.append(Operand(shape, dtype, constants.get(name)))
        if _is_constant_input(node, operands):
            for name, value in zip(node.outputs, _evaluate(node, operands, graph.opset)):
                if name:
                    value = np.asarray(value)
                    constants[name] = value
                    info[name] = (value.shape, value.dtype)
            continue
        if node.op not in OPS:
            raise unsupported(f"{node.op} node {node.name!r} on values known only at run time")
        kernel = OPS[node.op](node, operands, graph.opset)
        for name, shape, dtype in zip(node.outputs, kernel.shapes, kernel.dtypes):
            info[name] = (tuple(int(d) for d in shape), np.dtype(dtype))
        # the plan's rewrites edit their own copy; the graph serves every input shape
        kept.append(replace(node, inputs=list(node.inputs), outputs=list(node.outputs),
                            attrs=dict(node.attrs)))
    return kept, constants, info
