"""Load-time pass over the graph with every input shape fixed: each tensor's
shape and type become known, and every node whose inputs are all known values
(Shape of a fixed shape, arithmetic on constants, the Shape/Gather/Concat/
Slice/Cast/ConstantOfShape/Pad chains of PyTorch's legacy exporter) is
computed once and becomes a constant."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import numpy as np

from .. import memory_limit
from ..errors import ModelError
from ..model_file import first_line
from .blockers import Blockers, inferred_outputs
from .errors import ADVICE, NativeModelError, unsupported
from .kernel import Operand
from .ops import OPS

# operators computed at load when their inputs are known; never run per frame
FOLD_ONLY = {"Shape", "Size", "ConstantOfShape", "Range", "Equal", "Less", "Greater", "Not",
             "And", "Or", "Where", "Expand", "Tile", "Mod", "Sign", "Round", "ReduceProd",
             "CumSum", "NonZero", "Xor", "LessOrEqual", "GreaterOrEqual", "Trilu", "ScatterND",
             "GatherElements", "Einsum", "Sin", "Cos"}


def is_unknown_operator(node):
    """True for an operator the native backend has no way to run."""
    return node.domain not in ("", "ai.onnx") or (node.op not in OPS and node.op not in FOLD_ONLY)


def check_operators(graph, origin="the model"):
    """Refuses a graph with operators the backend has no way to run, naming
    all of them and their nodes (what needs no shapes to be known)."""
    blockers = Blockers()
    for node in graph.nodes:
        if is_unknown_operator(node):
            blockers.unknown_operator(node)
    if blockers:
        raise blockers.error(origin)


# folded by onnx.reference: outputs shaped like their broadcast inputs
BROADCASTING = {"Equal", "Less", "Greater", "And", "Or", "Where", "Mod", "Xor", "LessOrEqual",
                "GreaterOrEqual"}


def folded_bytes(node, operands, opset):
    """An upper bound of the bytes a node's folded outputs take, found
    without computing them (a 1 KB model may ask for gigabytes)."""
    present = [o for o in operands if o is not None]
    if node.op in ("Shape", "Size"):
        return 0
    shape = memory_limit.made_shape(node.op, present[0].shape if present else (),
                                    [o.value if o is not None else None for o in operands])
    if node.op == "ConstantOfShape" and shape is not None:
        value = node.attr("value")
        dtype = np.asarray(value).dtype if value is not None else np.float32
        return memory_limit.tensor_bytes(shape, dtype)
    if shape is not None:
        return memory_limit.tensor_bytes(shape, present[0].dtype)
    if node.op in BROADCASTING:
        try:
            shape = np.broadcast_shapes(*(o.shape for o in present))
        except ValueError:
            return 0   # the evaluation itself says what is wrong
        return memory_limit.tensor_bytes(shape, np.int64)
    if node.op in OPS and node.op not in FOLD_ONLY:
        try:
            kernel = OPS[node.op](node, operands, opset)
        except NativeModelError:
            kernel = None
        if kernel is not None and kernel.view_of is None:
            return sum(memory_limit.tensor_bytes(s, d) for s, d in zip(kernel.shapes,
                                                                       kernel.dtypes))
    # the rest (Not, Sign, CumSum, Split, NonZero ...) is no larger than its inputs
    # (NonZero: one int64 index per input element and axis)
    largest = max((memory_limit.tensor_bytes(o.shape, np.int64) for o in present), default=0)
    return largest * (max(len(present[0].shape), 1) if node.op == "NonZero" else 1)


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


# what an operator's shape and attribute arithmetic raises on a graph that breaks
# ONNX's own rules: shapes that do not broadcast, an axis out of range, ...
MALFORMED = (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError)


@contextmanager
def malformed_node(node, origin):
    """Turns what a node's arithmetic raises on a broken graph into a ModelError naming
    the node, so a damaged file is refused in one line at load."""
    try:
        yield
    except ModelError:
        raise
    except MALFORMED as error:
        raise ModelError(f"{origin}: node {node.name or node.op!r} ({node.op}) does not fit "
                         f"its inputs ({first_line(error)}): the graph is damaged; export the "
                         "model again") from None


def fold(graph, input_shapes, origin="the model", refuse=True):
    """(nodes left to run, constants, {tensor: (shape, dtype)}) for inputs of
    the given shapes. Raises NativeModelError for what cannot run (refuse=False:
    the shapes it could tell of a graph it would refuse, for inspect's MACs), and
    ModelError for constants larger than the memory limit (before computing them)."""
    constants = dict(graph.constants)
    folded_total = 0
    info = {name: (tuple(np.shape(v)), np.asarray(v).dtype) for name, v in constants.items()}
    for tensor in graph.inputs:
        info[tensor.name] = (tuple(input_shapes[tensor.name]), tensor.dtype)
    kept = []
    blockers = Blockers()
    unknown = set()     # tensors made by refused nodes whose shapes inference cannot tell
    for node in graph.nodes:
        foreign = is_unknown_operator(node)
        if foreign:
            blockers.unknown_operator(node)
        if any(name in unknown for name in node.inputs):
            unknown.update(node.outputs)    # cannot be judged without its input shapes
            continue
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
        if foreign:
            _follow(node, operands, graph.opset, info, unknown)
            continue
        if _is_constant_input(node, operands):
            what = f"node {node.name or node.outputs[0]!r} ({node.op})"
            with malformed_node(node, origin):
                nbytes = folded_bytes(node, operands, graph.opset)
                memory_limit.check(nbytes, f"the constant made by {what}", origin)
                folded_total += nbytes
                memory_limit.check(folded_total, f"the constants folded up to {what} together",
                                   origin)
                values = _evaluate(node, operands, graph.opset)
            for name, value in zip(node.outputs, values):
                if name:
                    value = np.asarray(value)
                    constants[name] = value
                    info[name] = (value.shape, value.dtype)
            continue
        try:
            if node.op not in OPS:
                raise unsupported(f"{node.op} node {node.name!r} on values known only at run "
                                  "time")
            with malformed_node(node, origin):
                kernel = OPS[node.op](node, operands, graph.opset)
        except NativeModelError as error:
            blockers.refused(node, error)
            _follow(node, operands, graph.opset, info, unknown)
            continue
        for name, shape, dtype in zip(node.outputs, kernel.shapes, kernel.dtypes):
            info[name] = (tuple(int(d) for d in shape), np.dtype(dtype))
        # the plan's rewrites edit their own copy; the graph serves every input shape
        kept.append(replace(node, inputs=list(node.inputs), outputs=list(node.outputs),
                            attrs=dict(node.attrs)))
    if blockers and refuse:
        raise blockers.error(origin)
    return kept, constants, info


def _follow(node, operands, opset, info, unknown):
    """Shapes of a refused node's outputs, so the nodes after it are checked too."""
    found = inferred_outputs(node, operands, opset)
    if found is None:
        unknown.update(name for name in node.outputs if name)
    else:
        info.update(found)
