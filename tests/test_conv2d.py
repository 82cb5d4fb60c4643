"""edgeinfer.conv2d (C) against edgeinfer.reference.conv2d (numpy), the ONNX
reference evaluator and onnxruntime, over drawn shapes and every attribute of
ONNX Conv; the official ONNX conformance cases; every SIMD level, thread
count and forced path (tests/kernel_check.py)."""
import glob
import os
import warnings

import numpy as np
import onnx
import pytest
from hypothesis import given, settings, strategies as st
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import edgeinfer
from edgeinfer import reference
from edgeinfer.kernels.conv_plan import plan_conv
from kernel_check import Case, KernelCheck
from simd_levels import SIMD_LEVELS, available_levels


def assert_close(ours, expected, reduction):
    """float32 sums of `reduction` terms of unit-scale values."""
    assert ours.shape == expected.shape and ours.dtype == np.float32
    # NaN counts as equal where both have it (assert_allclose), so it must not set the scale
    scale = np.abs(expected)[~np.isnan(expected)].max(initial=1.0)
    tolerance = 2e-6 * max(reduction, 1) ** 0.5 * scale
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=tolerance)


@st.composite
def conv_cases(draw, max_side=12, max_batch=2):
    """A Conv problem: arrays and keyword arguments, every attribute drawn."""
    groups = draw(st.sampled_from([1, 1, 2, 3, "depthwise"]))
    if groups == "depthwise":
        channels = draw(st.integers(1, 6))
        groups = channels
        out_channels = channels * draw(st.integers(1, 3))  # channel multiplier
    else:
        channels = groups * draw(st.integers(1, 4))
        out_channels = groups * draw(st.integers(1, 5))
    kh = draw(st.sampled_from([1, 1, 2, 3, 3, 5]))
    kw = draw(st.sampled_from([kh, kh, 1, 3]))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.sampled_from([1, 1, 2])), draw(st.sampled_from([1, 1, 3])))
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    mode = draw(st.sampled_from(["int", "pair", "asymmetric", "valid", "same_upper",
                                 "same_lower"]))
    if mode == "int":
        padding = draw(st.integers(0, 2))
    elif mode == "pair":
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    elif mode == "asymmetric":
        padding = tuple(draw(st.integers(0, 3)) for _ in range(4))
    else:
        padding = mode
    if isinstance(padding, int):
        pads = (padding,) * 4
    elif isinstance(padding, tuple):
        pads = padding * 2 if len(padding) == 2 else padding
    else:
        pads = (0, 0, 0, 0) if padding == "valid" else None  # "same": any size fits
    # the input is at least as large as the kernel span once padded
    min_h = 1 if pads is None else max(1, span[0] - pads[0] - pads[2])
    min_w = 1 if pads is None else max(1, span[1] - pads[1] - pads[3])
    h = draw(st.integers(min_h, max(min_h, max_side)))
    w = draw(st.integers(min_w, max(min_w, max_side)))
    batch = draw(st.integers(1, max_batch))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, h, w)).astype(np.float32)
    weights = rng.standard_normal((out_channels, channels // groups, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(out_channels).astype(np.float32) if draw(st.booleans()) else None
    activation = draw(st.sampled_from([None, None, "relu", "relu6", (-0.5, 1.5), (None, 0.25)]))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                  activation=activation)
    return x, weights, bias, kwargs


def onnx_model(x, w, b, stride=1, padding=0, dilation=1, groups=1, activation=None):
    """One Conv node (then Clip for an activation) with every attribute explicit."""
    attrs = dict(strides=list(stride), dilations=list(dilation), group=groups,
                 kernel_shape=list(w.shape[2:]))
    if isinstance(padding, str):
        attrs["auto_pad"] = padding.upper()
    else:
        pads = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        pads = pads * 2 if len(pads) == 2 else pads
        top, left, bottom, right = pads
        attrs["pads"] = [top, left, bottom, right]  # ONNX order: begins then ends
    inputs = ["x", "w"] + (["b"] if b is not None else [])
    initializers = [numpy_helper.from_array(w, "w")]
    if b is not None:
        initializers.append(numpy_helper.from_array(b, "b"))
    nodes = [helper.make_node("Conv", inputs, ["conv" if activation else "y"], **attrs)]
    if activation is not None:
        lo, hi = {"relu": (0.0, np.inf), "relu6": (0.0, 6.0)}.get(activation, activation)
        lo = -np.inf if lo is None else lo
        hi = np.inf if hi is None else hi
        initializers += [numpy_helper.from_array(np.float32(lo), "lo"),
                         numpy_helper.from_array(np.float32(hi), "hi")]
        nodes.append(helper.make_node("Clip", ["conv", "lo", "hi"], ["y"]))
    graph = helper.make_graph(
        nodes, "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def run_onnxruntime(model, x):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def reduction_of(w):
    return int(np.prod(w.shape[1:]))


# every path a drawn problem can take: the depthwise layouts (the plane
# filter's row ring, a whole plane padded and phase-split into one flat run,
# or channels-last blocks of a vector's width of channels), the dense ones at
# column stride 1 (im2col, or indirect row pointers, one GEMM per output row
# or per band of rows) and the 1x1 ones (weights as given with dot products
# for the last columns, or packed weights with the last columns in the tiles'
# pass); a conv takes one of the three kinds, so the last two configurations
# force one of each
PATHS = {"by shape": (None, None, None), "rows+im2col+in_place": ("rows", "im2col", "in_place"),
         "flat+indirect+packed": ("flat", "indirect", "packed"),
         "blocked+bands+packed": ("blocked", "bands", "packed")}


def force_paths(name):
    depthwise, dense, pointwise = PATHS[name]
    edgeinfer._core.conv2d_force_depthwise(depthwise)
    edgeinfer._core.conv2d_force_dense(dense)
    edgeinfer._core.conv2d_force_pointwise(pointwise)


CONV2D = KernelCheck(
    edgeinfer.conv2d, reference.conv2d,
    compare=lambda ours, expected, case: assert_close(ours, expected, reduction_of(case.args[1])),
    paths={name: (lambda name=name: force_paths(name)) for name in PATHS},
    reset_paths=lambda: force_paths("by shape"))


def conv_case(x, w, b=None, **kwargs):
    return Case((x, w, b), kwargs)


@st.composite
def depthwise_cases(draw):
    """A depthwise Conv with channels enough for full channel blocks of every
    vector unit (4, 8, 16 lanes) and a partial last one, on small maps."""
    channels = draw(st.integers(1, 40))
    multiplier = draw(st.sampled_from([1, 1, 1, 2, 3]))
    kh = draw(st.sampled_from([1, 3, 3, 5, 5, 7]))
    kw = draw(st.sampled_from([kh, kh, kh, 1, 3]))
    stride = (draw(st.sampled_from([1, 1, 2, 3])), draw(st.sampled_from([1, 1, 2, 3])))
    dilation = (draw(st.sampled_from([1, 1, 1, 2])), draw(st.sampled_from([1, 1, 1, 2])))
    pads = tuple(draw(st.integers(0, 3)) for _ in range(4))
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    h = draw(st.integers(max(1, span[0] - pads[0] - pads[2]), 16))
    w = draw(st.integers(max(1, span[1] - pads[1] - pads[3]), 16))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 2)), channels, h, w)).astype(np.float32)
    weights = rng.standard_normal((channels * multiplier, 1, kh, kw)).astype(np.float32)
    bias = rng.standard_normal(channels * multiplier).astype(np.float32) \
        if draw(st.booleans()) else None
    activation = draw(st.sampled_from([None, "relu", "relu6", (-0.5, 1.5)]))
    return conv_case(x, weights, bias, stride=stride, padding=pads, dilation=dilation,
                     groups=channels, activation=activation)


def force_blocked(band_rows):
    edgeinfer._core.conv2d_force_depthwise("blocked")
    edgeinfer._core.conv2d_force_depthwise_bands(band_rows)


def reset_blocked():
    force_paths("by shape")
    edgeinfer._core.conv2d_force_depthwise_bands(None)


# the whole map as one block, and in bands of one to three output rows (each
# band filling its padded input rows, the rows two bands share twice, the
# last band shorter)
CHANNEL_BLOCKED = KernelCheck(
    edgeinfer.conv2d, reference.conv2d,
    compare=lambda ours, expected, case: assert_close(ours, expected, reduction_of(case.args[1])),
    paths={"blocked": lambda: force_blocked(None),
           **{f"blocked in bands of {rows}": (lambda rows=rows: force_blocked(rows))
              for rows in (1, 2, 3)}},
    reset_paths=reset_blocked)

test_channel_blocked_depthwise_matches_reference = CHANNEL_BLOCKED.property(depthwise_cases())


test_c_matches_reference = CONV2D.property(conv_cases().map(lambda c: conv_case(*c[:3], **c[3])))
# larger shapes, so full register tiles, K chunks and panel edges all occur
test_larger_problems_match_reference = CONV2D.property(
    conv_cases(max_side=20).map(lambda c: conv_case(*c[:3], **c[3])), max_examples=20)


@settings(max_examples=25)
@given(conv_cases(max_side=9))
def test_reference_matches_onnx_reference_evaluator(case):
    x, w, b, kwargs = case
    expected = ReferenceEvaluator(onnx_model(x, w, b, **kwargs)).run(None, {"x": x})[0]
    assert_close(reference.conv2d(x, w, b, **kwargs), expected, reduction_of(w))
    assert_close(edgeinfer.conv2d(x, w, b, **kwargs), expected, reduction_of(w))


@settings(max_examples=40)
@given(conv_cases())
def test_c_matches_onnxruntime(case):
    x, w, b, kwargs = case
    model_kwargs = kwargs
    if str(kwargs["padding"]).startswith("same") and max(kwargs["dilation"]) > 1:
        # onnxruntime refuses auto_pad SAME with dilation: give it our explicit
        # pads (the ONNX reference evaluator test checks how they are chosen)
        plan = plan_conv(x.shape, w.shape, None, **{k: v for k, v in kwargs.items()
                                                    if k != "activation"})
        model_kwargs = dict(kwargs, padding=plan.pads)
    expected = run_onnxruntime(onnx_model(x, w, b, **model_kwargs), x)
    assert_close(edgeinfer.conv2d(x, w, b, **kwargs), expected, reduction_of(w))


def seeded(x_shape, w_shape, seed=5, bias=False, nan_at=None, **kwargs):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    if nan_at is not None:
        x[nan_at] = np.nan
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32) if bias else None
    return conv_case(x, w, b, **kwargs)


def equals(expected):
    return lambda ours, _: np.testing.assert_array_equal(ours, expected)


RAMP = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 1, 4)
REGRESSIONS = {
    # a 1x5 kernel over a width-2 input needs padding on both sides of every row
    "kernel_wider_than_input_with_padding": Case(
        (np.ones((1, 1, 1, 2), np.float32), np.ones((1, 1, 1, 5), np.float32), None),
        dict(padding=(0, 2)), then=equals([[[[2, 2]]]])),
    # a kernel of ones over a ramp: the first output sums the pad and x[0]
    "same_lower_puts_the_extra_pad_first": Case(
        (RAMP, np.ones((1, 1, 1, 2), np.float32), None), dict(padding="same_lower"),
        then=equals([[[[1, 3, 5, 7]]]])),
    "same_upper_puts_the_extra_pad_last": Case(
        (RAMP, np.ones((1, 1, 1, 2), np.float32), None), dict(padding="same_upper"),
        then=equals([[[[3, 5, 7, 4]]]])),
    # NaN passes through without an activation and through relu (assert_close
    # counts NaN equal only where the reference has NaN too)
    "nan_passes_through_dense": seeded((1, 4, 5, 5), (6, 4, 1, 1), seed=1234, nan_at=(0, 1, 2, 2)),
    "nan_passes_through_dense_relu": seeded((1, 4, 5, 5), (6, 4, 1, 1), seed=1234,
                                            nan_at=(0, 1, 2, 2), activation="relu"),
    "nan_passes_through_depthwise": seeded((1, 4, 5, 5), (4, 1, 3, 3), seed=1234,
                                           nan_at=(0, 1, 2, 2), padding=1, groups=4),
    "nan_passes_through_depthwise_relu": seeded((1, 4, 5, 5), (4, 1, 3, 3), seed=1234,
                                                nan_at=(0, 1, 2, 2), padding=1, groups=4,
                                                activation="relu"),
    "k_longer_than_one_chunk": seeded((2, 40, 23, 29), (70, 40, 3, 3), padding=1),
    "pointwise_300_channels": seeded((1, 300, 9, 7), (13, 300, 1, 1)),
    "narrow_last_panel_49_positions": seeded((1, 40, 7, 7), (24, 40, 1, 1)),
    "depthwise_strided_5x5": seeded((1, 12, 40, 37), (24, 1, 5, 5), groups=12, stride=2,
                                    padding=2),
    "depthwise_wide_rows": seeded((1, 8, 33, 70), (8, 1, 3, 3), groups=8, padding=1),
    "depthwise_multiplier_stride_3_dilated_odd_pads": seeded(
        (2, 5, 17, 23), (10, 1, 3, 5), groups=5, stride=(2, 3), dilation=(2, 1),
        padding=(0, 3, 2, 1)),
    "depthwise_5x5_relu6": seeded((1, 16, 7, 7), (16, 1, 5, 5), groups=16, padding=2,
                                  activation="relu6"),
    # channel blocks of every vector width: 7x7 and 14x14 maps with channel
    # counts that leave a partial last block, stride 2 with SAME-style
    # asymmetric pads, a channel multiplier, and wide maps of many rows
    "depthwise_7x7_channels_past_the_last_block": seeded((1, 37, 7, 7), (37, 1, 5, 5), groups=37,
                                                         padding=2, bias=True, activation="relu6"),
    "depthwise_14x14_stride_2_asymmetric_pads": seeded((2, 24, 14, 14), (24, 1, 5, 5), groups=24,
                                                       stride=2, padding=(1, 1, 2, 2), bias=True),
    "depthwise_small_map_multiplier": seeded((1, 6, 9, 9), (18, 1, 3, 3), groups=6, padding=1),
    "depthwise_columns_no_tap_reads": seeded((1, 20, 12, 13), (20, 1, 3, 3), groups=20,
                                             stride=(3, 4), padding=(0, 0, 0, 0)),
    # dense rows wider than a panel, dilated, strided down the rows
    "dense_wide_rows_dilated_strided": seeded((1, 7, 12, 53), (11, 7, 3, 3), padding=(1, 2, 0, 1),
                                              stride=(2, 1), dilation=(1, 2)),
    "one_row_wide_kernel": seeded((2, 4, 1, 70), (6, 4, 1, 5), padding=(0, 2)),
    # the thread split: dense, depthwise (with a multiplier), and pointwise on
    # a small map, whose output channels are split between threads
    "threads_dense_batch": seeded((2, 16, 30, 30), (32, 16, 3, 3), seed=1, padding=1),
    "threads_depthwise_batch": seeded((2, 16, 30, 30), (16, 1, 3, 3), seed=2, padding=1,
                                      groups=16),
    "threads_depthwise_multiplier": seeded((2, 16, 30, 30), (48, 1, 5, 5), seed=3, padding=2,
                                           groups=16),
    "threads_pointwise_small_map": seeded((1, 256, 7, 7), (100, 256, 1, 1), seed=4),
    # channel-blocked depthwise with an odd count of channel blocks at every
    # vector width (33 channels: 3, 5, 9 and 33 blocks): at two threads each
    # block's rows are split in two, each part filling its own halo rows
    "depthwise_blocked_rows_split_between_threads": seeded((1, 33, 12, 12), (33, 1, 3, 3),
                                                           seed=5, padding=1, groups=33),
    "depthwise_blocked_rows_split_strided_5x5": seeded((1, 33, 15, 15), (33, 1, 5, 5), seed=6,
                                                       stride=2, padding=2, groups=33,
                                                       activation="relu6"),
    # pointwise on maps of odd widths with more weight rows than a tile, K in
    # several chunks, a clamp
    "pointwise_more_rows_than_a_tile": seeded((1, 40, 7, 7), (64, 40, 1, 1)),
    "pointwise_14x14_relu6": seeded((1, 24, 14, 14), (72, 24, 1, 1), activation="relu6"),
    "pointwise_k_in_chunks_odd_width": seeded((2, 300, 5, 9), (40, 300, 1, 1)),
    # small maps run as bands of rows: mini-Xception's last conv (K = 1152 in
    # chunks, 7 output channels, one band of 4 rows), a 60x60 map in more than
    # one band, output channels split between threads with a batch of one
    "small_map_deep_k_one_band": seeded((1, 128, 4, 4), (7, 128, 3, 3), bias=True, padding=1),
    "map_in_several_bands": seeded((1, 8, 62, 62), (40, 8, 3, 3), activation="relu6"),
    "band_rows_split_between_threads": seeded((1, 16, 8, 8), (40, 16, 3, 3), padding=1,
                                              dilation=(2, 1)),
    # one input channel: a grey image's stem (8 outputs, a dense GEMM by shape
    # from AVX-512's 8-row tiles down) and fewer outputs than a tile's rows
    # (the depthwise path, as a channel multiplier)
    "one_input_channel_stem": seeded((1, 1, 64, 64), (8, 1, 3, 3), bias=True,
                                     activation="relu6"),
    "one_input_channel_few_outputs": seeded((2, 1, 28, 28), (3, 1, 5, 5), padding=2),
    # an Xception shortcut: 1x1 at stride 2 (im2col by shape, every phase
    # copied when forced into bands)
    "strided_1x1_shortcut": seeded((1, 16, 30, 30), (32, 16, 1, 1), stride=2,
                                   padding="same_upper"),
    # packed weights: K in chunks on every vector level (SSE2 and NEON take
    # 768 steps a chunk; maps of up to 256 columns take all of K, from L2,
    # so this one has 270), on a small map whose B passes 768 KB, 14x14
    # with its 4 last columns fused into the last tile, 1-D widths leaving
    # more columns than the tile fuses (AVX-512: 15)
    "pointwise_packed_k_in_chunks_every_level": seeded((1, 800, 3, 90), (11, 800, 1, 1),
                                                       bias=True, activation="relu6"),
    "pointwise_packed_7x7_k_past_l2_in_chunks": seeded((1, 4100, 7, 7), (9, 4100, 1, 1),
                                                       bias=True, activation="relu6"),
    # the 3x3/2 depthwise on EfficientNet-Lite0's 112x112 map (SAME: the pad
    # below and right), whose channels-last block runs in bands of rows
    "depthwise_3x3_stride2_112x112_in_bands": seeded((1, 20, 112, 112), (20, 1, 3, 3),
                                                     bias=True, stride=2, padding=(0, 0, 1, 1),
                                                     groups=20, activation="relu6"),
    # the first depthwise layer's 112x112 map by shape: channels-last in bands
    # where the vector is wide enough for its block to be banded (AVX-512),
    # row by row elsewhere; 37 channels leave a partial last channel block at
    # 4, 8 and 16 lanes, and an odd count of blocks splits rows between threads
    "depthwise_112x112_by_shape_partial_block": seeded((1, 37, 112, 112), (37, 1, 3, 3),
                                                       bias=True, padding=1, groups=37,
                                                       activation="relu6"),
    "pointwise_14x14_four_last_columns": seeded((1, 24, 14, 14), (20, 24, 1, 1), bias=True),
    "pointwise_1d_fifteen_last_columns": seeded((2, 9, 1, 47), (13, 9, 1, 1), bias=True),
    # the dense path's input split into stride phases, every phase of a row
    # from one pass over it: the small CNN's 3x3/2 (pads below and right
    # only), an odd left pad (the even/odd phases swap), an odd width whose
    # last column only one phase takes, stride 3, and a pad wider than the
    # stride (whole phase columns of zeros on the left)
    "dense_stride_phases_small_cnn_3x3_2": seeded((1, 16, 48, 48), (24, 16, 3, 3), bias=True,
                                                  stride=2, padding=(0, 0, 1, 1)),
    "dense_stride_phases_odd_left_pad_odd_width": seeded((2, 3, 37, 51), (8, 3, 3, 3),
                                                         stride=2, padding=(1, 1, 1, 0),
                                                         activation="relu6"),
    "dense_stride_phases_stride_3_wide_pad": seeded((1, 4, 20, 41), (9, 4, 5, 5), bias=True,
                                                    stride=(2, 3), padding=(3, 4, 2, 4),
                                                    dilation=(1, 2)),
}
test_regressions = CONV2D.regression_test(REGRESSIONS)


def onnx_conv_cases():
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():  # building every node case warns about other ops
        warnings.simplefilter("ignore")
        cases = load_model_tests(kind="node")
    return [case for case in cases if case.model.graph.node[0].op_type == "Conv"]


def conv_arguments(node, inputs):
    """edgeinfer.conv2d keyword arguments from an ONNX Conv node."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    kernel_rank = inputs[1].ndim - 2
    strides = tuple(attrs.get("strides", [1] * kernel_rank))
    dilations = tuple(attrs.get("dilations", [1] * kernel_rank))
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    if auto_pad in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        padding = auto_pad.lower()
    else:
        pads = attrs.get("pads", [0] * 2 * kernel_rank)
        padding = (pads[0], pads[1], pads[2], pads[3]) if kernel_rank == 2 else \
            (0, pads[0], 0, pads[1])
    if kernel_rank == 1:  # a 1-D convolution is a 2-D one of height 1
        strides, dilations = (1,) + strides, (1,) + dilations
    return dict(stride=strides, dilation=dilations, padding=padding,
                groups=attrs.get("group", 1))


def as_2d(array):
    return array[:, :, None, :] if array.ndim == 3 else array


def test_onnx_node_conformance_cases():
    cases = onnx_conv_cases()
    assert {c.name for c in cases} >= {"test_basic_conv_with_padding",
                                       "test_conv_with_strides_and_asymmetric_padding",
                                       "test_conv_with_autopad_same"}
    for case in cases:
        node = case.model.graph.node[0]
        for inputs, outputs in case.data_sets:
            x, w = (as_2d(np.asarray(a, np.float32)) for a in inputs[:2])
            b = np.asarray(inputs[2], np.float32) if len(inputs) > 2 else None
            kwargs = conv_arguments(node, inputs)
            for fn in (edgeinfer.conv2d, reference.conv2d):
                np.testing.assert_allclose(fn(x, w, b, **kwargs), as_2d(outputs[0]),
                                           rtol=case.rtol, atol=max(case.atol, 1e-5),
                                           err_msg=case.name)


PYTORCH_CASES = sorted(glob.glob(os.path.join(os.path.dirname(onnx.__file__), "backend", "test",
                                              "data", "pytorch-converted", "test_Conv[12]d*")))


def read_tensor(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


@pytest.mark.parametrize("case_dir", PYTORCH_CASES, ids=os.path.basename)
def test_pytorch_converted_conformance_cases(case_dir):
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    data_set = os.path.join(case_dir, "test_data_set_0")
    x = read_tensor(os.path.join(data_set, "input_0.pb"))
    expected = read_tensor(os.path.join(data_set, "output_0.pb"))
    w = weights[conv.input[1]] if conv.input[1] in weights else \
        read_tensor(os.path.join(data_set, "input_1.pb"))
    b = weights.get(conv.input[2]) if len(conv.input) > 2 else None
    kwargs = conv_arguments(conv, [x, w])
    for fn in (edgeinfer.conv2d, reference.conv2d):
        got = fn(as_2d(x), as_2d(w), b, **kwargs)
        np.testing.assert_allclose(got, as_2d(expected), rtol=1e-4, atol=1e-5)


def test_benchmark_shapes_match_reference(rng):
    """The shapes the benchmark times, checked once at full size."""
    for xs, ws, kwargs in [((1, 32, 56, 56), (64, 32, 3, 3), dict(padding=1)),
                           ((1, 64, 28, 28), (128, 64, 1, 1), {}),
                           ((1, 192, 7, 7), (1152, 192, 1, 1), {}),
                           ((1, 32, 112, 112), (32, 1, 3, 3), dict(padding=1, groups=32)),
                           ((1, 3, 224, 224), (32, 3, 3, 3), dict(padding=1, stride=2)),
                           ((1, 64, 112, 112), (64, 1, 3, 3), dict(padding=1, stride=2, groups=64)),
                           ((1, 16, 1, 256), (32, 16, 1, 5), dict(padding=(0, 2))),
                           ((1, 1152, 7, 7), (1152, 1, 5, 5), dict(padding=2, groups=1152)),
                           ((1, 240, 28, 28), (240, 1, 3, 3),
                            dict(padding=(0, 0, 1, 1), stride=2, groups=240))]:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        assert_close(edgeinfer.conv2d(x, w, b, activation="relu6", **kwargs),
                     reference.conv2d(x, w, b, activation="relu6", **kwargs), reduction_of(w))


def test_activation_is_applied_after_bias(rng):
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = np.array([10.0, -10.0, 0.0], np.float32)
    plain = edgeinfer.conv2d(x, w, b, padding=1)
    np.testing.assert_allclose(edgeinfer.conv2d(x, w, b, padding=1, activation="relu"),
                               np.maximum(plain, 0), atol=1e-6)
    np.testing.assert_allclose(edgeinfer.conv2d(x, w, b, padding=1, activation="relu6"),
                               np.clip(plain, 0, 6), atol=1e-6)
    np.testing.assert_allclose(edgeinfer.conv2d(x, w, b, padding=1, activation=(-1, None)),
                               np.maximum(plain, -1), atol=1e-6)


def test_out_buffer_float64_and_views(rng):
    x = rng.standard_normal((2, 4, 9, 11))
    w = rng.standard_normal((6, 4, 3, 3))
    expected = reference.conv2d(x, w, padding=1)
    out = np.full((2, 6, 9, 11), np.nan, np.float32)
    assert edgeinfer.conv2d(x, w, padding=1, out=out) is out
    assert_close(out, expected, 36)
    view = np.asfortranarray(x.astype(np.float32))[:, :, ::-1][:, :, ::-1]
    assert_close(edgeinfer.conv2d(view, w.astype(np.float16), padding=1),
                 reference.conv2d(view, w.astype(np.float16), padding=1), 36)


@pytest.mark.parametrize("dense", [None, "bands"])
@pytest.mark.parametrize("level", SIMD_LEVELS)
def test_residual_is_added_in_the_write_before_the_clamp(level, dense, rng):
    """conv2d's residual (a model's Add after the Conv, done by the native
    backend in the output write) on every path that writes through the GEMM:
    1x1 in place with a dot-product tail, im2col, indirect rows, grouped, and
    forced into bands of rows (added as a band is copied out); K in several
    chunks, so the residual is added once, on the last."""
    if level not in available_levels():
        pytest.skip(f"{level} is not available on this CPU or build")
    core = edgeinfer._core
    cases = [((1, 300, 7, 7), (70, 300, 1, 1), (1, 1), (0, 0, 0, 0), 1),
             ((1, 24, 5, 6), (40, 24, 3, 3), (1, 1), (1, 1, 1, 1), 1),
             ((2, 16, 20, 53), (24, 16, 3, 3), (2, 1), (1, 1, 1, 1), 1),
             ((1, 12, 9, 9), (18, 4, 3, 3), (1, 1), (1, 1, 1, 1), 3)]
    for xs, ws, stride, pads, groups in cases:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        plain = reference.conv2d(x, w, b, stride=stride, padding=pads, groups=groups)
        r = rng.standard_normal(plain.shape).astype(np.float32)
        out = np.empty(plain.shape, np.float32)
        core.simd_force(level)
        core.conv2d_force_dense(dense)
        try:
            core.conv2d(x, w, b, out, stride, (1, 1), pads, groups, (0.0, 6.0), r)
        finally:
            core.simd_force(None)
            core.conv2d_force_dense(None)
        assert_close(out, np.clip(plain + r, 0.0, 6.0), reduction_of(w))


@st.composite
def pointwise_cases(draw):
    """A 1x1 convolution whose map leaves every count of columns past the
    last whole vector (1 to 15 on AVX-512, and maps narrower than a vector),
    weight rows that do not fill the last tile, K from two steps to several
    chunks; a residual and a clamp or not."""
    k, m = draw(st.integers(2, 300)), draw(st.integers(1, 30))  # one channel is depthwise
    h, w, batch = draw(st.integers(1, 7)), draw(st.integers(1, 40)), draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((batch, k, h, w)).astype(np.float32)
    weights = rng.standard_normal((m, k, 1, 1)).astype(np.float32)
    bias = rng.standard_normal(m).astype(np.float32) if draw(st.booleans()) else None
    residual = rng.standard_normal((batch, m, h, w)).astype(np.float32) \
        if draw(st.booleans()) else None
    clamp = draw(st.sampled_from([None, (0.0, 6.0), (-0.5, 0.25)]))
    return x, weights, bias, residual, clamp


def run_pointwise(x, w, bias, residual, clamp, packed):
    out = np.empty((x.shape[0], w.shape[0]) + x.shape[2:], np.float32)
    edgeinfer._core.conv2d(x, w, bias, out, (1, 1), (1, 1), (0, 0, 0, 0), 1, clamp, residual,
                           packed)
    return out


def assert_one_and_two_threads_alike(run, expected, k, level):
    """run() at one thread and at two (split however small): each close to
    `expected` for a sum of k products, and the two bit-equal. The caller
    restores the thread count and the work gate."""
    by_threads = []
    for count in (1, 2):
        edgeinfer.set_num_threads(count)
        edgeinfer._core.set_work_per_thread(0 if count > 1 else None)
        ours = run()
        assert_close(ours, expected, k)
        by_threads.append(ours)
    np.testing.assert_array_equal(by_threads[0], by_threads[1], err_msg=level)


@settings(max_examples=40, deadline=None)
@given(pointwise_cases())
def test_pointwise_with_packed_weights_matches_reference(case):
    """Weights packed once (as the native backend does at load) for each SIMD
    level, one and two threads: the tiles read the packed panels and the last
    columns ride with the last tile or, past four of them or on a map
    narrower than a vector, run on their own."""
    x, w, bias, residual, clamp = case
    expected = reference.conv2d(x, w, bias)
    if residual is not None:
        expected = expected + residual
    if clamp is not None:
        expected = np.clip(expected, *clamp)
    core, threads = edgeinfer._core, edgeinfer.get_num_threads()
    try:
        for level in available_levels():
            core.simd_force(level)
            packed = core.conv2d_pack_pointwise(w)
            assert_one_and_two_threads_alike(
                lambda: run_pointwise(x, w, bias, residual, clamp, packed), expected,
                w.shape[1], level)
    finally:
        core.simd_force(None)
        edgeinfer.set_num_threads(threads)
        core.set_work_per_thread(None)


def check_pointwise_split(k, m, h, w):
    """A 1x1 of k -> m channels on an h x w map, with bias, residual and clamp: every
    level, one and two threads (split however small), packed weights or not,
    alike and equal to the reference."""
    rng = np.random.default_rng(k * m + h)
    x = rng.standard_normal((1, k, h, w)).astype(np.float32)
    weights = rng.standard_normal((m, k, 1, 1)).astype(np.float32)
    bias = rng.standard_normal(m).astype(np.float32)
    residual = rng.standard_normal((1, m, h, w)).astype(np.float32)
    expected = np.clip(reference.conv2d(x, weights, bias) + residual, 0.0, 6.0)
    core, threads = edgeinfer._core, edgeinfer.get_num_threads()
    try:
        for level in available_levels():
            core.simd_force(level)
            for packed in (None, core.conv2d_pack_pointwise(weights)):
                assert_one_and_two_threads_alike(
                    lambda: run_pointwise(x, weights, bias, residual, (0.0, 6.0), packed),
                    expected, k, level)
    finally:
        core.simd_force(None)
        edgeinfer.set_num_threads(threads)
        core.set_work_per_thread(None)


@pytest.mark.parametrize("k, m, h, w", [(96, 24, 56, 56), (192, 32, 28, 28), (24, 8, 23, 41),
                                        (16, 96, 112, 112)])
def test_pointwise_on_wide_maps_shares_column_blocks_not_channels(k, m, h, w):
    """A 1x1 on a map wide enough for four column blocks per thread splits
    its columns more finely instead of its output channels (which read the
    same columns of B twice, on both cores): every level, one and two
    threads, packed weights or not, the last columns riding with the last
    block, all alike and equal to the reference."""
    check_pointwise_split(k, m, h, w)


@pytest.mark.parametrize("k, m, h, w", [(112, 672, 14, 14), (80, 480, 14, 14), (672, 112, 14, 14),
                                        (192, 1152, 7, 7), (40, 90, 9, 13)])
def test_pointwise_on_small_maps_shares_channels_and_columns_either_way_round(k, m, h, w):
    """A 1x1 on a small map splits both its output channels and its columns;
    a layer that widens the channels hands each thread whole channels first
    (channel blocks outer), one that narrows them whole columns: every
    level, one and two threads, packed weights or not, alike and equal to
    the reference."""
    check_pointwise_split(k, m, h, w)


def test_weights_packed_for_another_level_are_not_used(rng):
    """A packing belongs to the level that made it (its panels are that
    level's tile rows): under another level conv2d runs from the weights as
    given, and a packing of other weights is refused."""
    levels = available_levels()
    core = edgeinfer._core
    x = rng.standard_normal((1, 40, 7, 7)).astype(np.float32)
    w = rng.standard_normal((20, 40, 1, 1)).astype(np.float32)
    packed = core.conv2d_pack_pointwise(w)
    try:
        for level in levels:
            core.simd_force(level)
            assert_close(run_pointwise(x, w, None, None, None, packed), reference.conv2d(x, w), 40)
    finally:
        core.simd_force(None)
    with pytest.raises(ValueError, match="not these weights"):
        run_pointwise(x, w[:10], None, None, None, packed)
    with pytest.raises(ValueError, match="1x1"):
        core.conv2d_pack_pointwise(np.ones((4, 3, 3, 3), np.float32))


def test_residual_of_a_depthwise_conv_is_refused():
    x = np.ones((1, 4, 5, 5), np.float32)
    w = np.ones((4, 1, 3, 3), np.float32)
    out = np.empty((1, 4, 3, 3), np.float32)
    with pytest.raises(ValueError, match="inconsistent"):
        edgeinfer._core.conv2d(x, w, None, out, (1, 1), (1, 1), (0, 0, 0, 0), 4, None,
                               np.zeros_like(out))
@pytest.mark.parametrize("args,kwargs,message", [
    (((1, 3, 8, 8), (4, 2, 3, 3)), {}, r"w \(4, 2, 3, 3\) expects 2 input channels"),
    (((3, 8, 8), (4, 3, 3, 3)), {}, r"x must be NCHW .* \(3, 8, 8\)"),
    (((1, 4, 8, 8), (6, 2, 3, 3)), {"groups": 3}, r"groups=3 must divide"),
    (((1, 3, 2, 2), (4, 3, 3, 3)), {}, r"larger than the padded input"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), {"b": (5,)}, r"b must have shape \(4,\)"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), {"stride": 0}, "stride must be a positive"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), {"padding": "same"}, "padding must be"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), {"padding": (1, 2, 3)}, "padding needs 1, 2 or 4"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), {"activation": "gelu"}, "activation must be"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), {"activation": (2, 1)}, "lo <= hi"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), {"out": (1, 4, 8, 8)}, r"out must be .* \(1, 4, 6, 6\)"),
])
def test_bad_arguments_raise_value_error(args, kwargs, message):
    x = np.zeros(args[0], np.float32)
    w = np.zeros(args[1], np.float32)
    kwargs = dict(kwargs)
    b = np.zeros(kwargs.pop("b"), np.float32) if "b" in kwargs else None
    if "out" in kwargs:
        kwargs["out"] = np.zeros(kwargs["out"], np.float32)
    for fn in (edgeinfer.conv2d, reference.conv2d):
        if fn is reference.conv2d and "out" in kwargs:
            continue
        with pytest.raises(ValueError, match=message):
            fn(x, w, b, **kwargs)


def test_integer_input_is_rejected():
    with pytest.raises(ValueError, match="floating-point"):
        edgeinfer.conv2d(np.zeros((1, 1, 3, 3), np.int32), np.zeros((1, 1, 1, 1), np.float32))
