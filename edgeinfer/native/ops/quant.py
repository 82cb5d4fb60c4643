"""QuantizeLinear and DequantizeLinear, the Q/DQ pairs of a QDQ-quantised
model. On constant weights DequantizeLinear is folded at load (the planner
folds every node whose inputs are constants); on activations both run per
frame in float32 with ONNX's rounding (half to even) and saturation (per-tensor
uint8 ones in C, csrc/kernels/qdq.c; others in numpy). Where a
Conv sits between a DequantizeLinear and a QuantizeLinear the planner runs an
integer convolution instead (native/quantized.py)."""
import numpy as np

from ...core.loader import core
from ..errors import unsupported
from ..kernel import FLOAT, Kernel, normalise_axis, optional_input, require_constant
from ..quantized_layout import TO_NHWC, VECTOR_LEVELS, moves_bytes

INTEGER_LIMITS = {np.dtype(t): (np.iinfo(t).min, np.iinfo(t).max)
                  for t in (np.uint8, np.int8, np.uint16, np.int16, np.int32)}


def per_axis(node, values, shape, axis_default=1):
    """A scale or zero point broadcastable against a tensor of `shape`: a
    scalar, or one value per index of the node's `axis`."""
    values = np.asarray(values)
    if values.size == 1:
        return values.reshape(())
    if node.attr("block_size", 0):
        raise unsupported(f"{node.op} node {node.name!r} with blocked quantisation")
    axis = normalise_axis(int(node.attr("axis", axis_default)), len(shape))
    if values.ndim != 1 or axis >= len(shape) or values.shape[0] != shape[axis]:
        raise unsupported(f"{node.op} node {node.name!r} with scale shape {values.shape} "
                          f"for a tensor of shape {shape}")
    return values.reshape((-1,) + (1,) * (len(shape) - axis - 1))


def quantization_params(node, operands):
    """(scale float32, zero point, integer dtype) of a Q or DQ node, each
    shaped to broadcast against its tensor input."""
    x = operands[0]
    scale = require_constant(node, operands[1], "scale")
    zero = optional_input(operands, 2)
    if zero is not None:
        zero_value = require_constant(node, zero, "zero point")
        dtype = zero_value.dtype
    else:
        zero_value, dtype = np.zeros((), np.uint8), np.dtype(np.uint8)
    if node.op == "DequantizeLinear":
        dtype = x.dtype
    if dtype not in INTEGER_LIMITS:
        raise unsupported(f"{node.op} node {node.name!r} on {dtype} values (8, 16 and 32-bit "
                          "integers only)")
    scale = per_axis(node, scale.astype(np.float32), x.shape)
    zero_value = per_axis(node, zero_value, x.shape)
    return scale, zero_value, dtype


def _per_tensor_u8(scale, zero, dtype, *buffers):
    """Whether the C kernels run this Q/DQ node: one scale, a uint8 zero
    point, buffers whose flat views are themselves (never a copy)."""
    return dtype == np.uint8 and np.ndim(scale) == 0 and np.ndim(zero) == 0 and \
        all(buffer.flags.c_contiguous for buffer in buffers)


def make_dequantize(node, operands, opset):
    x = operands[0]
    scale, zero, dtype = quantization_params(node, operands)
    zero = zero.astype(np.float32)
    shifted = bool(np.any(zero))

    def bind(ins, outs):
        src, out = ins[0], outs[0]
        if _per_tensor_u8(scale, zero, dtype, src, out):
            flat_src, flat_out = src.reshape(-1), out.reshape(-1)
            args = (float(scale), int(zero))
            return lambda: core.dequantize_u8(flat_src, *args, flat_out)

        def run():
            # (x - zero) is a small integer, exact in float32, as onnxruntime computes it
            np.copyto(out, src, casting="unsafe")
            if shifted:
                np.subtract(out, zero, out=out)
            np.multiply(out, scale, out=out)
        return run

    return Kernel([x.shape], [FLOAT], bind)


def make_quantize(node, operands, opset):
    x = operands[0]
    if x.dtype != FLOAT:
        raise unsupported(f"QuantizeLinear node {node.name!r} on {x.dtype} tensors (float32 only)")
    if not node.attr("saturate", 1):
        raise unsupported(f"QuantizeLinear node {node.name!r} with saturate=0")
    scale, zero, dtype = quantization_params(node, operands)
    lo, hi = INTEGER_LIMITS[dtype]
    zero = zero.astype(np.float32)
    # where it enters the int8 region (native/quantized_layout.py): (N, C, H, W)
    # planes in, (N, H, W, C) pixels out, no transpose after
    channels_last = bool(node.attr("channels_last", False))
    shape = tuple(x.shape[p] for p in TO_NHWC) if channels_last else x.shape

    def bind(ins, outs):
        src, out = ins[0], outs[0]
        if _per_tensor_u8(scale, zero, dtype, src, out):
            args = (float(scale), int(zero))
            if channels_last:
                pairs = [(a.reshape(a.shape[0], -1), b.reshape(-1, b.shape[-1]))
                         for a, b in zip(src, out)]

                def run_images():
                    for planes, pixels in pairs:
                        core.quantize_u8_nhwc(planes, *args, pixels)
                return run_images
            flat_src, flat_out = src.reshape(-1), out.reshape(-1)
            return lambda: core.quantize_u8(flat_src, *args, flat_out)
        scratch = np.empty(x.shape, np.float32)
        target = out.transpose(0, 3, 1, 2) if channels_last else out

        def run():
            np.divide(src, scale, out=scratch)
            np.rint(scratch, out=scratch)          # half to even, as ONNX rounds
            np.add(scratch, zero, out=scratch)
            np.clip(scratch, lo, hi, out=scratch)
            np.copyto(target, scratch, casting="unsafe")
        return run

    return Kernel([shape], [dtype], bind)


def make_quantized_conv(node, operands, opset):
    """A 1x1 or depthwise Conv (or a dense Gemm) between DequantizeLinear and
    QuantizeLinear, made by native/quantized.py: uint8 (N, C, H, W) in, uint8
    (N, M, H', W') out; a Gemm's (N, K) in, (N, M) out; in the int8 region
    (native/quantized_layout.py) (N, H, W, C) in, (N, H', W', M) out."""
    x = operands[0]
    dense = len(x.shape) == 2      # a Gemm: (n, k) is n images of k channels at 1x1
    if node.attr("channels_last", False) or (dense and core.simd_active() in VECTOR_LEVELS):
        # a Gemm's (n, k) is n pixels of k channels, channels-last already
        return _channels_last_conv(node, x)
    weights, stride, pads = node.attr("weights"), node.attr("stride"), node.attr("pads")
    x_zero, bias, multiplier = node.attr("x_zero"), node.attr("bias"), node.attr("multiplier")
    requantize = (multiplier, node.attr("y_zero"), node.attr("lo"), node.attr("hi"), stride)
    if dense:
        shape = (x.shape[0], weights.shape[0])
    else:
        shape = (x.shape[0], weights.shape[0], *_output_size(x.shape[2:], weights, stride, pads))

    def bind(ins, outs):
        src, dst = ins[0], outs[0]
        if dense:
            src, dst = src.reshape(src.shape + (1, 1)), dst.reshape(dst.shape + (1, 1))
        images = list(zip(src, dst))     # per-image views of the planned buffers
        if pads is None:
            # the weights readied once here, not every frame
            call, head, tail = core.qconv1x1_packed, \
                (core.qconv1x1_pack(weights, bias, x_zero),), ()
        else:
            call, head, tail = core.qdwconv, (x_zero, weights, bias), tuple(pads[:2])

        def run():
            for image, out in images:
                call(image, *head, *requantize, *tail, out)
        return run

    return Kernel([shape], [np.dtype(np.uint8)], bind)


def _output_size(size, weights, stride, pads):
    """(H', W') of a QuantizedConv on an (H, W) map: a 1x1 (no pads) keeps every
    stride-th pixel, a depthwise filter (kh, kw) slides over the padded map."""
    h, w = size
    if pads is None:
        return -(-h // stride), -(-w // stride)
    (kh, kw), (top, left, bottom, right) = weights.shape[1:], pads
    return (h + top + bottom - kh) // stride + 1, (w + left + right - kw) // stride + 1


def _channels_last_conv(node, x):
    weights, stride, pads = node.attr("weights"), node.attr("stride"), node.attr("pads")
    x_zero, bias, multiplier = node.attr("x_zero"), node.attr("bias"), node.attr("multiplier")
    bounds = (node.attr("y_zero"), node.attr("lo"), node.attr("hi"), stride)
    if len(x.shape) == 2:
        def bind_dense(ins, outs):
            # one image of n x 1 pixels: the weights read once for the batch
            src, dst = ins[0][:, None, :], outs[0][:, None, :]
            packed = core.qconv1x1_nhwc_pack(weights, bias, x_zero, multiplier)
            return lambda: core.qconv1x1_nhwc(src, packed, *bounds, dst)
        return Kernel([(x.shape[0], weights.shape[0])], [np.dtype(np.uint8)], bind_dense)
    shape = (x.shape[0], *_output_size(x.shape[1:3], weights, stride, pads), weights.shape[0])

    def bind(ins, outs):
        images = list(zip(ins[0], outs[0]))
        if pads is None:
            # the weights readied once here, not every frame
            packed = core.qconv1x1_nhwc_pack(weights, bias, x_zero, multiplier)
            calls = [(core.qconv1x1_nhwc, (image, packed, *bounds, out)) for image, out in images]
        else:
            packed = core.qdwconv_nhwc_pack(weights, bias, multiplier)
            calls = [(core.qdwconv_nhwc_packed, (image, x_zero, packed, *bounds, *pads[:2], out))
                     for image, out in images]
        if len(calls) == 1:
            call, args = calls[0]
            return lambda: call(*args)

        def run():
            for call, args in calls:
                call(*args)
        return run

    return Kernel([shape], [np.dtype(np.uint8)], bind)


def make_quantized_add(node, operands, opset):
    """Two uint8 tensors of one shape added, made by native/quantized.py:
    y = clip(rint((a - a_zero) a_scale / y_scale + (b - b_zero) b_scale / y_scale) + y_zero),
    each ratio a float32, the sum in float64 (exact products, one rounding), with
    QuantizeLinear's rounding, in C."""
    a = operands[0]
    ratios = [float(np.float32(node.attr(f"{n}_scale") / node.attr("y_scale"))) for n in "ab"]
    zeros = [int(node.attr(f"{n}_zero")) for n in "ab"]
    y_zero = int(node.attr("y_zero"))

    def bind(ins, outs):
        src_a, src_b = (flat.reshape(-1) for flat in ins)
        out = outs[0].reshape(-1)
        return lambda: core.qadd_u8(src_a, zeros[0], ratios[0], src_b, zeros[1], ratios[1],
                                    y_zero, out)

    return Kernel([a.shape], [np.dtype(np.uint8)], bind)


def make_channels_last(node, operands, opset):
    """A uint8 (N, C, H, W) tensor as (N, H, W, C) where the int8 region is
    entered, or back with `to_planes` where it is left
    (native/quantized_layout.py): per image one byte transpose in C."""
    x = operands[0]
    n, to_planes = x.shape[0], bool(node.attr("to_planes", False))
    shape = (n, x.shape[3], x.shape[1], x.shape[2]) if to_planes else \
        (n, x.shape[2], x.shape[3], x.shape[1])
    if not moves_bytes(shape if to_planes else x.shape):
        # one channel, or a 1x1 map: the same bytes in either layout (an H or W
        # of 1 alone is not: C x H x 1 and H x 1 x C differ)
        return Kernel([shape], [np.dtype(np.uint8)], view_of=0)

    def bind(ins, outs):
        if to_planes:      # (h w, c) pixels to (c, h w) planes
            pairs = [(a.reshape(-1, a.shape[-1]), b.reshape(b.shape[0], -1))
                     for a, b in zip(ins[0], outs[0])]
        else:
            pairs = [(a.reshape(a.shape[0], -1), b.reshape(-1, b.shape[-1]))
                     for a, b in zip(ins[0], outs[0])]

        def run():
            for src, dst in pairs:
                core.u8_transpose(src, dst)
        return run

    return Kernel([shape], [np.dtype(np.uint8)], bind)


OPS = {"QuantizeLinear": make_quantize, "DequantizeLinear": make_dequantize,
       "QuantizedConv": make_quantized_conv, "QuantizedAdd": make_quantized_add,
       "ChannelsLast": make_channels_last}
