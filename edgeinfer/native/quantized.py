"""Load-time pass for QDQ-quantised models: DequantizeLinear -> Conv ->
QuantizeLinear, with per-tensor activation scales and the Conv's weights and
bias given by DequantizeLinear of int8 / int32 constants (what onnxruntime's
static quantisation and tf2onnx write), becomes one QuantizedConv step: uint8
in, uint8 out, integer sums with the requantisation in the write. Two kinds of
Conv run so: 1x1 (csrc/kernels/qconv.c) and depthwise kxk with any pads
(csrc/kernels/qdwconv.c); a residual Add between Q/DQ nodes becomes a
QuantizedAdd; between them the activations stay uint8. Everything else in
the model keeps running in float32 between its Q/DQ nodes. A fused ReLU / Clip clamp becomes the bounds of the uint8
write (quantising is monotone, so clamping before or after agrees)."""
from __future__ import annotations

import numpy as np

from ..core.loader import core
from ..kernels.conv_plan import plan_conv
from ..kernels.geometry import onnx_window_arguments
from ..reference.qconv import requantize
from .errors import ADVICE, NativeModelError
from .graph import Node
from .quantized_layout import run_channels_last
from .rewrite import _producers, _Uses


def _scalar(constants, name):
    if not name or name not in constants or np.asarray(constants[name]).size != 1:
        return None
    return np.asarray(constants[name]).reshape(())


def _dequantized_constants(graph_nodes, constants):
    """{folded tensor: (int values, scale, zero point)} for every
    DequantizeLinear of a constant in the model as read."""
    found = {}
    for node in graph_nodes:
        if node.op != "DequantizeLinear" or node.inputs[0] not in constants:
            continue
        scale = constants.get(node.inputs[1])
        zero = constants.get(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else 0
        if scale is None or zero is None:
            continue
        found[node.outputs[0]] = (np.asarray(constants[node.inputs[0]]), np.asarray(scale),
                                  np.asarray(zero))
    return found


def _is_plain_1x1(conv, info):
    shape = info[conv.inputs[1]][0]
    strides = list(conv.attr("strides", [1, 1]))
    return len(shape) == 4 and tuple(shape[2:]) == (1, 1) and int(conv.attr("group", 1)) == 1 \
        and conv.attr("auto_pad", "NOTSET") in ("NOTSET", "", "VALID") \
        and not any(conv.attr("pads", [0] * 4)) and set(conv.attr("dilations", [1, 1])) == {1} \
        and len(strides) == 2 and strides[0] == strides[1] and conv.attr("_activation") is None


def _is_plain_dense(gemm, info, graph_nodes, quantized, constants):
    """A Gemm x (n, k) . W^T + b with W (m, k) quantised per tensor or per
    row, a constant b of m values, alpha = beta = 1: what a quantiser writes
    for a classifier."""
    x_shape, w_shape = info[gemm.inputs[0]][0], info[gemm.inputs[1]][0]
    if len(x_shape) != 2 or len(w_shape) != 2 or gemm.attr("transA", 0) or \
            not gemm.attr("transB", 0) or gemm.attr("alpha", 1.0) != 1.0 or \
            gemm.attr("beta", 1.0) != 1.0 or gemm.attr("_activation") is not None:
        return False
    if len(gemm.inputs) > 2 and gemm.inputs[2] and (
            gemm.inputs[2] not in constants or
            np.shape(constants[gemm.inputs[2]]) != (w_shape[0],)):
        return False
    scale = quantized[gemm.inputs[1]][1]
    if scale.size == 1:
        return True
    dq = next((n for n in graph_nodes if n.op == "DequantizeLinear" and
               n.outputs[0] == gemm.inputs[1]), None)
    return dq is not None and int(dq.attr("axis", 1)) in (0, -2) and scale.size == w_shape[0]


def _depthwise_window(conv, info):
    """(stride, (top, left, bottom, right)) of a 2-D depthwise Conv with
    equal strides and no dilation, else None."""
    x_shape, w_shape = info[conv.inputs[0]][0], info[conv.inputs[1]][0]
    if len(x_shape) != 4 or len(w_shape) != 4 or conv.attr("_activation") is not None:
        return None
    channels, groups = x_shape[1], int(conv.attr("group", 1))
    if not isinstance(channels, int) or groups != channels or w_shape[0] != channels or \
            w_shape[1] != 1 or any(not isinstance(d, int) for d in x_shape[2:]) or \
            w_shape[2] * w_shape[3] > core.QDWCONV_MAX_TAPS:
        return None
    try:
        _, strides, padding, dilations = onnx_window_arguments(
            2, w_shape[2:], conv.attr("strides"), conv.attr("dilations"),
            conv.attr("auto_pad", "NOTSET"), conv.attr("pads"))
        plan = plan_conv((1,) + tuple(x_shape[1:]), tuple(w_shape), None, strides, padding,
                         dilations, groups)
    except ValueError:
        return None
    if set(plan.dilations) != {1} or plan.strides[0] != plan.strides[1]:
        return None
    return int(plan.strides[0]), tuple(int(p) for p in plan.pads)


def _uint8_quantizer(node, constants):
    """(scale, zero point) of a per-tensor uint8 Q or DQ node, else None."""
    scale = _scalar(constants, node.inputs[1])
    zero = _scalar(constants, node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    if scale is None or zero is None or zero.dtype != np.uint8:
        return None
    return np.float32(scale), int(zero)


def run_integer_kernels(nodes, constants, info, outputs, graph_nodes):
    quantized = _dequantized_constants(graph_nodes, constants)
    uses, producers = _Uses(nodes, outputs), _producers(nodes)
    consumers = {}
    for node in nodes:
        for name in node.inputs:
            consumers.setdefault(name, []).append(node)
    removed, replaced = set(), {}
    for conv in nodes:
        if conv.op not in ("Conv", "Gemm") or conv.inputs[1] not in quantized:
            continue
        # a dense layer x (n, k) . W^T (m, k) is a 1x1 conv of an n-image 1x1 map
        one_by_one = _is_plain_1x1(conv, info) if conv.op == "Conv" else \
            _is_plain_dense(conv, info, graph_nodes, quantized, constants)
        depthwise = None if one_by_one or conv.op == "Gemm" else _depthwise_window(conv, info)
        if not one_by_one and depthwise is None:
            continue
        dq = producers.get(conv.inputs[0])
        after = consumers.get(conv.outputs[0], [])
        if dq is None or dq.op != "DequantizeLinear" or len(after) != 1 or \
                not uses.only_one(conv.outputs[0]) or after[0].op != "QuantizeLinear":
            continue
        q = after[0]
        x_params, y_params = _uint8_quantizer(dq, constants), _uint8_quantizer(q, constants)
        if x_params is None or y_params is None or info[dq.inputs[0]][1] != np.uint8:
            continue
        weights, w_scale, w_zero = quantized[conv.inputs[1]]
        if weights.dtype != np.int8 or np.any(w_zero):
            continue
        (x_scale, x_zero), (y_scale, y_zero) = x_params, y_params
        m = weights.shape[0]
        w_scale = np.broadcast_to(w_scale.astype(np.float32).reshape(-1), (m,))
        bias = _integer_bias(conv, quantized, constants, x_scale * w_scale)
        if bias is _FLOAT_ONLY:
            continue
        lo, hi = 0, 255
        clamp = conv.attr("_clamp")
        if clamp is not None:
            lo, hi = (int(np.clip(np.rint(np.float32(b) / y_scale) + y_zero, 0, 255))
                      if np.isfinite(b) else default for b, default in zip(clamp, (0, 255)))
        # the order onnxruntime computes it in, in float32
        multiplier = (x_scale * w_scale / y_scale).astype(np.float32)
        if not _sums_fit_int32(weights.reshape(m, -1), bias):
            folded = _fold_constant_channels(weights, bias, x_zero, multiplier, y_zero, lo, hi)
            if folded is None:
                continue
            weights, bias, multiplier = folded
        if bias is not None:
            bias = bias.astype(np.int32)    # fits: _sums_fit_int32 or the fold made sure
        attrs = {"weights": np.ascontiguousarray(weights.reshape(m, -1) if depthwise is None
                                                 else weights.reshape(m, *weights.shape[2:])),
                 "bias": bias,
                 "multiplier": multiplier,
                 "x_zero": x_zero, "y_zero": y_zero, "lo": lo, "hi": hi,
                 "stride": int(conv.attr("strides", [1, 1])[0]) if depthwise is None
                 else depthwise[0],
                 "pads": None if depthwise is None else depthwise[1]}
        replaced[id(conv)] = Node("QuantizedConv", [dq.inputs[0]], list(q.outputs), attrs,
                                  conv.name)
        removed.add(id(q))
        if uses.only_one(dq.outputs[0]):
            removed.add(id(dq))
    _add_in_uint8(nodes, constants, info, uses, producers, consumers, removed, replaced)
    return run_channels_last(_without_unread_dequantizers(
        [replaced.get(id(n), n) for n in nodes if id(n) not in removed], outputs), info, outputs)


def _without_unread_dequantizers(nodes, outputs):
    """The nodes less each DequantizeLinear whose float tensor no step reads
    any more: one uint8 tensor read by both a QuantizedConv and a QuantizedAdd
    (a block's input and its residual) kept its DequantizeLinear, shared by
    the two nodes those replaced, and would convert a whole map per frame for
    nothing."""
    read = set(outputs)
    for node in nodes:
        read.update(node.inputs)
    return [node for node in nodes
            if node.op != "DequantizeLinear" or any(name in read for name in node.outputs)]


def _add_in_uint8(nodes, constants, info, uses, producers, consumers, removed, replaced):
    """DequantizeLinear a, DequantizeLinear b -> Add -> QuantizeLinear, all
    per-tensor uint8 and of one shape (a residual connection), becomes a
    QuantizedAdd: uint8 in, uint8 out, no float tensor in between."""
    for add in nodes:
        if add.op != "Add" or len(add.inputs) != 2 or id(add) in replaced:
            continue
        dqs = [producers.get(name) for name in add.inputs]
        after = consumers.get(add.outputs[0], [])
        if any(dq is None or dq.op != "DequantizeLinear" or dq.inputs[0] in constants or
               info[dq.inputs[0]][1] != np.uint8 for dq in dqs) or len(after) != 1 or \
                not uses.only_one(add.outputs[0]) or after[0].op != "QuantizeLinear":
            continue
        shapes = {tuple(info[name][0]) for name in add.inputs}
        params = [_uint8_quantizer(node, constants) for node in dqs + after]
        if len(shapes) != 1 or any(p is None for p in params):
            continue
        (a_scale, a_zero), (b_scale, b_zero), (y_scale, y_zero) = params
        attrs = {"a_scale": float(a_scale), "a_zero": a_zero, "b_scale": float(b_scale),
                 "b_zero": b_zero, "y_scale": float(y_scale), "y_zero": y_zero}
        replaced[id(add)] = Node("QuantizedAdd", [dq.inputs[0] for dq in dqs],
                                 list(after[0].outputs), attrs, add.name)
        removed.add(id(after[0]))
        for dq in dqs:
            if uses.only_one(dq.outputs[0]):
                removed.add(id(dq))


# a bias the integer sums cannot hold at all (not finite, past 2^53)
_FLOAT_ONLY = object()


def _integer_bias(conv, quantized, constants, bias_scale):
    """The Conv's bias as integer sums in units of x_scale * w_scale: the
    stored int32 values when their scale is that one, else the float bias
    rounded (int64, maybe past int32), or _FLOAT_ONLY."""
    if len(conv.inputs) < 3 or not conv.inputs[2]:
        return None
    name = conv.inputs[2]
    channels = bias_scale.shape[0]
    if name in quantized:
        values, scale, zero = quantized[name]
        _check_bias_length(conv, values, channels)
        scale = np.broadcast_to(scale.astype(np.float32).reshape(-1), bias_scale.shape)
        if values.dtype == np.int32 and not np.any(zero) and \
                np.allclose(scale, bias_scale, rtol=1e-6, atol=0):
            return np.ascontiguousarray(values.reshape(-1), dtype=np.int32)
    _check_bias_length(conv, constants[name], channels)
    value = np.rint(np.asarray(constants[name], np.float64).reshape(-1) / bias_scale)
    if not np.all(np.isfinite(value)) or np.any(np.abs(value) > 2 ** 53):
        return _FLOAT_ONLY
    # not clamped to int32 here: a bias past it is a channel to fold or a
    # node for the float path, decided on its true value
    return value.astype(np.int64)


def _check_bias_length(conv, bias, channels):
    """The kernels read one bias per output channel; onnxruntime refuses any
    other length too."""
    if np.shape(bias) != (channels,):
        raise NativeModelError(f"node {conv.name!r} ({conv.op}) has a bias of shape "
                               f"{np.shape(bias)} for {channels} output channels; fix the model "
                               f"or {ADVICE}")


def _reach(weights, bias):
    """Per output channel, the largest |bias + sum w (x - x_zero)| any input
    and zero point could give, with room for the 1x1 kernel's bias - x_zero
    sum w folding: 2 x 255 x sum |w| + |bias| (int64)."""
    reach = 2 * 255 * np.abs(weights.reshape(weights.shape[0], -1).astype(np.int64)).sum(axis=1)
    if bias is not None:
        reach = reach + np.abs(bias.astype(np.int64))
    return reach


def _sums_fit_int32(weights, bias):
    """Whether bias + sum w (x - x_zero) stays within int32 for every input:
    a huge stored bias would wrap (the vector paths) or be undefined (the
    portable one), so such a node stays on the float path, which saturates as
    ONNX says."""
    return bool(np.all(_reach(weights, bias) <= 2 ** 31 - 1))


def _requantized(acc, multiplier, y_zero, lo, hi):
    """What the integer kernels write for int64 sums acc (one per channel)."""
    return requantize(np.asarray(acc, np.int64).reshape(-1, 1, 1), None, multiplier, y_zero, lo,
                      hi).reshape(-1)


def _fold_constant_channels(weights, bias, x_zero, multiplier, y_zero, lo, hi):
    """(weights, bias, multiplier) with every channel whose sums could pass
    int32 but whose output is one value for every input rewritten to write
    that value with no sums; None when such a channel's output varies.

    A quantiser gives a channel with (near) zero weights a tiny weight scale,
    so its bias in units of x_scale * w_scale is past int32 (stored as int32
    it saturates at 2^31 - 1, as in EfficientNet-Lite0 through --quantize
    int8): the sums of that channel would overflow, but times its multiplier
    they round to one output, so the channel needs no sums at all. `bias` is
    the true one (int64), never one clamped to int32."""
    m = weights.shape[0]
    w = weights.reshape(m, -1).astype(np.int64)
    b = np.zeros(m, np.int64) if bias is None else bias.astype(np.int64)
    over = _reach(weights, bias) > 2 ** 31 - 1
    # the extreme sums over inputs in [0, 255]: each weight at its worst end
    ends = np.stack([w * -x_zero, w * (255 - x_zero)])
    low = _requantized(b + ends.min(axis=0).sum(axis=1), multiplier, y_zero, lo, hi)
    high = _requantized(b + ends.max(axis=0).sum(axis=1), multiplier, y_zero, lo, hi)
    if np.any(over & (low != high)):
        return None
    # zero weights, a multiplier of 1 and the output less its zero point as
    # the bias: the kernel writes exactly that value, whatever the old
    # multiplier could reach from an int32 bias
    weights, b, multiplier = weights.copy(), b.copy(), multiplier.copy()
    weights.reshape(m, -1)[over] = 0
    b[over] = low[over].astype(np.int64) - y_zero
    multiplier[over] = 1.0
    return weights, b.astype(np.int32), multiplier
