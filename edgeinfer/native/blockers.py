"""Everything that keeps a model off the native backend, gathered over the
whole graph and said in one message: a user who swaps one operator should not
meet the next refusal only on the next try."""
from __future__ import annotations

import numpy as np

from .errors import ADVICE, NativeModelError


def node_label(node):
    return node.name or (node.outputs[0] if node.outputs else "")


class Blockers:
    def __init__(self):
        self.unknown = {}       # operator -> [node labels]
        self.refusals = []      # (node, NativeModelError)

    def unknown_operator(self, node):
        op = f"{node.domain}.{node.op}" if node.domain not in ("", "ai.onnx") else node.op
        self.unknown.setdefault(op, []).append(node_label(node))

    def refused(self, node, error):
        self.refusals.append((node, error))

    def __bool__(self):
        return bool(self.unknown or self.refusals)

    def error(self, origin):
        """One NativeModelError naming every blocking operator and node."""
        if not self.unknown and len(self.refusals) == 1:
            return self.refusals[0][1]      # one reason: said as the operator said it
        parts = []
        if self.unknown:
            nodes = ", ".join(f"{label!r}" for labels in self.unknown.values()
                              for label in labels)
            parts.append(f"uses operators the native backend does not run: "
                         f"{', '.join(sorted(self.unknown))} (nodes {nodes})")
        if self.refusals:
            reasons = "; ".join(_reason(error) for _, error in self.refusals)
            count = len(self.refusals)
            parts.append(f"cannot run {count} node{'s' if count > 1 else ''} here: {reasons}")
        return NativeModelError(f"{origin} {', and '.join(parts)}; {ADVICE}")


def _reason(error):
    text = str(error)
    text = text.removeprefix("the native backend cannot run ")
    return text.split(f"; {ADVICE}")[0]


def inferred_outputs(node, operands, opset):
    """{output: (shape, dtype)} of a node the backend refused, by ONNX shape
    inference, so the nodes after it are still checked; None when unknown."""
    from onnx import defs, helper, numpy_helper, shape_inference

    try:
        schema = defs.get_schema(node.op, opset, node.domain)
        types, data = {}, {}
        for name, operand in zip(node.inputs, operands):
            if not name:
                continue
            types[name] = helper.make_tensor_type_proto(
                helper.np_dtype_to_tensor_dtype(operand.dtype), list(operand.shape))
            if operand.constant:
                data[name] = numpy_helper.from_array(np.asarray(operand.value), name)
        found = shape_inference.infer_node_outputs(
            schema, node.proto, types, data,
            opset_imports=[helper.make_opsetid(node.domain, opset)])
        result = {}
        for name in node.outputs:
            tensor = found[name].tensor_type if name in found else None
            if name and (tensor is None or not tensor.HasField("shape")):
                return None
            if not name:
                continue
            dims = tuple(d.dim_value if d.HasField("dim_value") else None
                         for d in tensor.shape.dim)
            if None in dims:
                return None
            result[name] = (dims, np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type)))
        return result
    except Exception:  # noqa: BLE001 - a node shape inference cannot follow: stop following
        return None
