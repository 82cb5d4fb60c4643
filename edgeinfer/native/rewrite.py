"""Load-time rewrites of a folded graph: each keeps every graph output's
value and removes work from every run.

- a zero Pad before a Conv becomes the Conv's own padding (TF-style SAME padding
  from PyTorch's legacy exporter and from Keras);
- BatchNormalization after a Conv is folded into the Conv's weights and bias;
- Sigmoid(x) * x (torch's SiLU) becomes one Swish;
- an Add of a Conv's output and a tensor of the same shape (the residual of
  an inverted-residual or ResNet block) is done in the Conv's output write;
  the Conv moves to the Add's place, where both operands exist;
- Relu / Clip after a Conv becomes the clamp on the Conv's output write;
  HardSwish / Swish / LeakyRelu after a Conv runs in place on the Conv's
  output in the same step (one C pass while the output is still in cache, no
  buffer);
- a Transpose that keeps the order of every axis longer than 1 is a reshape;
- two Transposes that undo each other vanish (Keras' layout round trips)."""
from __future__ import annotations

import numpy as np

from .graph import Node
from .ops.activation import clip_range
from .ops.conv import batchnorm_scale_shift
from .kernel import Operand
from .ops.layout import pad_spec


class _Uses:
    """How many nodes (and graph outputs) read each tensor."""

    def __init__(self, nodes, outputs):
        self.count = {}
        for node in nodes:
            for name in node.inputs:
                if name:
                    self.count[name] = self.count.get(name, 0) + 1
        for name in outputs:
            self.count[name] = self.count.get(name, 0) + 1000  # never fold away an output

    def only_one(self, name):
        return self.count.get(name, 0) == 1


def _operands(node, constants, info):
    result = []
    for name in node.inputs:
        if not name:
            result.append(None)
        else:
            shape, dtype = info[name]
            result.append(Operand(shape, dtype, constants.get(name)))
    return result


def _producers(nodes):
    return {name: node for node in nodes for name in node.outputs if name}


def _has_explicit_pads(conv):
    return conv.attr("auto_pad", "NOTSET") in ("NOTSET", "", "VALID")


def fuse_pad_into_conv(nodes, constants, info, outputs, opset):
    uses, producers = _Uses(nodes, outputs), _producers(nodes)
    removed = set()
    for conv in nodes:
        if conv.op != "Conv" or not _has_explicit_pads(conv):
            continue
        pad = producers.get(conv.inputs[0])
        if pad is None or pad.op != "Pad" or not uses.only_one(pad.outputs[0]):
            continue
        try:
            begin, end, value, mode = pad_spec(pad, _operands(pad, constants, info), opset)
        except Exception:
            continue    # pads computed at run time: leave the Pad alone
        spatial = len(begin) - 2
        if mode != "constant" or value != 0 or any(begin[:2]) or any(end[:2]) or \
                min(begin + end) < 0:
            continue
        if conv.attr("auto_pad", "NOTSET") == "VALID":
            old = [0] * (2 * spatial)
        else:
            old = list(conv.attr("pads", [0] * (2 * spatial)))
        new = [old[i] + begin[2 + i] for i in range(spatial)] + \
              [old[spatial + i] + end[2 + i] for i in range(spatial)]
        conv.attrs = {**conv.attrs, "pads": new, "auto_pad": "NOTSET"}
        conv.inputs = [pad.inputs[0]] + conv.inputs[1:]
        removed.add(id(pad))
    return [n for n in nodes if id(n) not in removed]


def fold_batchnorm_into_conv(nodes, constants, info, outputs, opset):
    uses, producers = _Uses(nodes, outputs), _producers(nodes)
    removed = set()
    for bn in nodes:
        if bn.op != "BatchNormalization" or (len(bn.outputs) > 1 and any(bn.outputs[1:])):
            continue
        conv = producers.get(bn.inputs[0])
        if conv is None or conv.op != "Conv" or conv.attr("_clamp") is not None or \
                not uses.only_one(conv.outputs[0]):
            continue
        weight_name = conv.inputs[1]
        bias_name = conv.inputs[2] if len(conv.inputs) > 2 and conv.inputs[2] else None
        operands = _operands(bn, constants, info)
        if weight_name not in constants or (bias_name and bias_name not in constants) or \
                any(o is None or not o.constant for o in operands[1:5]):
            continue
        scale, shift = batchnorm_scale_shift(bn, operands)
        weight = constants[weight_name].astype(np.float64)
        bias = constants[bias_name].astype(np.float64) if bias_name else 0.0
        new_weight = (weight * scale.reshape((-1,) + (1,) * (weight.ndim - 1))).astype(np.float32)
        new_bias = (bias * scale + shift).astype(np.float32)
        stem = conv.outputs[0] or conv.name
        constants[stem + "::folded_weight"] = new_weight
        constants[stem + "::folded_bias"] = new_bias
        for name in (stem + "::folded_weight", stem + "::folded_bias"):
            info[name] = (constants[name].shape, constants[name].dtype)
        conv.inputs = [conv.inputs[0], stem + "::folded_weight", stem + "::folded_bias"]
        conv.outputs = [bn.outputs[0]]
        removed.add(id(bn))
    return [n for n in nodes if id(n) not in removed]


def sigmoid_mul_to_swish(nodes, constants, info, outputs, opset):
    uses, producers = _Uses(nodes, outputs), _producers(nodes)
    removed = set()
    replaced = {}
    for mul in nodes:
        if mul.op != "Mul" or len(mul.inputs) != 2:
            continue
        for x, gate in (mul.inputs, mul.inputs[::-1]):
            sigmoid = producers.get(gate)
            if sigmoid is not None and sigmoid.op == "Sigmoid" and sigmoid.inputs[0] == x and \
                    uses.only_one(gate) and id(sigmoid) not in removed and \
                    info[x][0] == info[mul.outputs[0]][0]:
                removed.add(id(sigmoid))
                replaced[id(mul)] = Node("Swish", [x], mul.outputs, {}, mul.name)
                break
    return [replaced.get(id(n), n) for n in nodes if id(n) not in removed]


# activations run in place on a Conv's output, in the Conv's step
CONV_ACTIVATIONS = {"HardSwish": "hard_swish", "Swish": "silu", "LeakyRelu": "leaky_relu"}


def fuse_activation_into_conv(nodes, constants, info, outputs, opset):
    uses, producers = _Uses(nodes, outputs), _producers(nodes)
    removed = set()
    for act in nodes:
        if act.op not in ("Relu", "Clip") and act.op not in CONV_ACTIVATIONS:
            continue
        conv = producers.get(act.inputs[0])
        if conv is None or conv.op != "Conv" or conv.attr("_clamp") is not None or \
                conv.attr("_activation") is not None or not uses.only_one(conv.outputs[0]):
            continue
        if act.op in CONV_ACTIVATIONS:
            if act.op == "LeakyRelu":
                alpha = float(act.attr("alpha", 0.01))
            elif float(act.attr("alpha", 1.0)) != 1.0:
                continue
            else:
                alpha = 0.0
            conv.attrs = {**conv.attrs, "_activation": CONV_ACTIVATIONS[act.op],
                          "_activation_alpha": alpha}
            conv.outputs = [act.outputs[0]]
            removed.add(id(act))
            continue
        if act.op == "Relu":
            clamp = (0.0, float("inf"))
        else:
            try:
                clamp = clip_range(act, _operands(act, constants, info), opset)
            except Exception:
                continue    # bounds known only at run time
        conv.attrs = {**conv.attrs, "_clamp": clamp}
        conv.outputs = [act.outputs[0]]
        removed.add(id(act))
    return [n for n in nodes if id(n) not in removed]


def fuse_residual_add_into_conv(nodes, constants, info, outputs, opset):
    uses, producers = _Uses(nodes, outputs), _producers(nodes)
    removed, replacement = set(), {}
    for add in nodes:
        if add.op != "Add" or len(add.inputs) != 2 or add.inputs[0] == add.inputs[1]:
            continue
        for side in (1, 0):
            conv, other = producers.get(add.inputs[side]), add.inputs[1 - side]
            if conv is None or conv.op != "Conv" or id(conv) in removed or \
                    not uses.only_one(conv.outputs[0]) or len(conv.inputs) > 3 or \
                    conv.attr("_clamp") is not None or conv.attr("_activation") is not None:
                continue
            channels = info[conv.inputs[0]][0][1]
            out_shape, out_type = info[conv.outputs[0]]
            depthwise = int(conv.attr("group", 1)) == channels    # the C core's own test
            if depthwise or len(out_shape) not in (3, 4) or other in constants or \
                    tuple(info[other][0]) != tuple(out_shape) or info[other][1] != out_type:
                continue
            conv.inputs = list(conv.inputs) + [""] * (3 - len(conv.inputs)) + [other]
            conv.outputs = [add.outputs[0]]
            conv.attrs = {**conv.attrs, "_residual": True}
            replacement[id(add)] = conv
            removed.add(id(conv))
            break
    return [replacement.get(id(n), n) for n in nodes if id(n) not in removed]


def _perm(node, rank):
    return list(node.attr("perm", list(range(rank))[::-1]))


def transposes_to_reshapes(nodes, constants, info, outputs, opset):
    result = []
    for node in nodes:
        if node.op == "Transpose":
            shape = info[node.inputs[0]][0]
            order = [p for p in _perm(node, len(shape)) if shape[p] != 1]
            if order == sorted(order):
                target = tuple(shape[p] for p in _perm(node, len(shape)))
                name = (node.outputs[0] or node.name) + "::shape"
                constants[name] = np.array(target, dtype=np.int64)
                info[name] = ((len(target),), np.dtype(np.int64))
                node = Node("Reshape", [node.inputs[0], name], node.outputs, {}, node.name)
        result.append(node)
    return result


def cancel_transpose_pairs(nodes, constants, info, outputs, opset):
    uses, producers = _Uses(nodes, outputs), _producers(nodes)
    removed = set()
    renames = {}
    for second in nodes:
        if second.op != "Transpose":
            continue
        first = producers.get(second.inputs[0])
        if first is None or first.op != "Transpose" or not uses.only_one(first.outputs[0]) or \
                id(first) in removed:
            continue
        rank = len(info[first.inputs[0]][0])
        p1, p2 = _perm(first, rank), _perm(second, rank)
        if [p1[p] for p in p2] != list(range(rank)):
            continue
        removed.update((id(first), id(second)))
        renames[second.outputs[0]] = first.inputs[0]
    if not renames:
        return nodes
    kept = [n for n in nodes if id(n) not in removed]
    for node in kept:
        node.inputs = [renames.get(name, name) for name in node.inputs]
    # a graph output may not be renamed: keep it as a view of the source
    for name, source in renames.items():
        if name in outputs:
            shape = info[name][0]
            shape_name = name + "::shape"
            constants[shape_name] = np.array(shape, dtype=np.int64)
            info[shape_name] = ((len(shape),), np.dtype(np.int64))
            kept.append(Node("Reshape", [source, shape_name], [name], {}, name))
    return kept


PASSES = (fuse_pad_into_conv, fold_batchnorm_into_conv, sigmoid_mul_to_swish,
          fuse_residual_add_into_conv, fuse_activation_into_conv,
          cancel_transpose_pairs, transposes_to_reshapes)


def rewrite(nodes, constants, info, outputs, opset):
    for rewrite_pass in PASSES:
        nodes = rewrite_pass(nodes, constants, info, outputs, opset)
    return nodes
