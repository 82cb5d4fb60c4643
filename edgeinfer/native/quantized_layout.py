"""Load-time pass after native/quantized.py: the int8 region of a QDQ graph
runs channels-last. Every QuantizedConv on a 4-D map (1x1 and depthwise)
reads and writes (N, H, W, C) uint8 tensors, as onnxruntime runs its int8
graph: a pixel's channels are contiguous, so the 1x1 is a GEMM over pixels
with no packing of activations and the depthwise reads a vector of channels
per tap, with no transpose in or out of each layer. QuantizedAdd is
elementwise and takes either layout. Where a tensor enters the region the
QuantizeLinear after a float stem writes it channels-last itself (when only
the region reads it); otherwise one ChannelsLast step (a byte transpose)
goes in there, and one where it leaves (the DequantizeLinear before
pooling, a model output); the tensors inside are new names ending in
NHWC_SUFFIX, and every name the rest of the graph reads keeps its NCHW
shape."""
from __future__ import annotations

from ..core.loader import core
from .graph import Node

NHWC_SUFFIX = "#nhwc"
TO_NHWC = (0, 2, 3, 1)

# Whether plans run the int8 region channels-last; tests turn it off (with
# the plan cache off) to run the NCHW kernels on a whole model.
ENABLED = True

# The SIMD levels where the channels-last 1x1 has vector code; elsewhere (SSE2,
# NEON) it is portable C, slower than the planes kernels there, so plans made
# at those levels keep the planes layout.
VECTOR_LEVELS = ("avx2", "avx512")


def _channels_last_form(node, info):
    """Whether the step has a channels-last kernel: a QuantizedConv on a 4-D
    uint8 map (not the dense Gemm's 2-D one), or a QuantizedAdd of two."""
    if node.op not in ("QuantizedConv", "QuantizedAdd"):
        return False
    return all(len(info[name][0]) == 4 for name in node.inputs + node.outputs)


def _components(region_nodes):
    """The region's steps grouped into connected parts (steps joined by a
    tensor one writes and another reads): each part is entered and left on
    its own, so each pays for its own transposes."""
    parent = list(range(len(region_nodes)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    writer = {name: i for i, node in enumerate(region_nodes) for name in node.outputs}
    for i, node in enumerate(region_nodes):
        for name in node.inputs:
            if name in writer:
                parent[root(i)] = root(writer[name])
    parts = {}
    for i, node in enumerate(region_nodes):
        parts.setdefault(root(i), []).append(node)
    return list(parts.values())


def moves_bytes(planes_shape):
    """Whether an (N, C, H, W) tensor differs from its (N, H, W, C) twin in
    memory: not when one of C and H x W is 1 (a classifier's 1x1 map). The
    planner and the ChannelsLast step both ask this, of the planes shape."""
    return planes_shape[1] != 1 and planes_shape[2] * planes_shape[3] != 1


def _read_outside(nodes, inside, outputs):
    """The names read by a step for which inside(node) is false, and the
    graph's outputs: the tensors that must be planes where they are read."""
    read = set(outputs)
    for node in nodes:
        if not inside(node):
            read.update(node.inputs)
    return read


def _chosen(nodes, info, outputs):
    """The ids of the steps to run channels-last: every connected part of the
    region whose transposes (those that move bytes) are fewer than its steps."""
    region = [node for node in nodes if _channels_last_form(node, info)]
    read_outside = _read_outside(nodes, lambda node: _channels_last_form(node, info), outputs)
    chosen = set()
    for part in _components(region):
        written = {name for node in part for name in node.outputs}
        edges = {name for node in part for name in node.inputs if name not in written}
        edges |= written & read_outside
        if sum(moves_bytes(info[name][0]) for name in edges) < len(part):
            chosen.update(id(node) for node in part)
    return chosen


def _quantizes_into(node, info, read_inside, read_outside):
    """Whether the node is a QuantizeLinear of a 4-D map that only the region
    reads: it can write (N, H, W, C) itself rather than be followed by a
    ChannelsLast transpose."""
    return node.op == "QuantizeLinear" and node.outputs[0] in read_inside and \
        node.outputs[0] not in read_outside and len(info[node.outputs[0]][0]) == 4


def run_channels_last(nodes, info, outputs):
    """The nodes with the int8 region channels-last (info gains the new
    tensors), or the nodes as they are when the pass is off; a part of the
    region that would cost more transposes than it has steps stays planes."""
    if not ENABLED or core.simd_active() not in VECTOR_LEVELS:
        return nodes
    region = _chosen(nodes, info, outputs)
    if not region:
        return nodes
    written = {name for node in nodes if id(node) in region for name in node.outputs}
    read_outside = _read_outside(nodes, lambda node: id(node) in region, outputs)
    leaving = written & read_outside
    read_inside = {name for node in nodes if id(node) in region for name in node.inputs}
    result, renamed = [], {}

    def nhwc(name):
        shape, dtype = info[name]
        renamed[name] = name + NHWC_SUFFIX
        info[renamed[name]] = (tuple(shape[p] for p in TO_NHWC), dtype)
        return renamed[name]

    for node in nodes:
        if _quantizes_into(node, info, read_inside, read_outside):
            # the region's entry written channels-last by the QuantizeLinear itself
            result.append(Node(node.op, node.inputs, [nhwc(node.outputs[0])],
                               dict(node.attrs, channels_last=True), node.name))
            continue
        if id(node) not in region:
            result.append(node)
            continue
        for name in node.inputs:
            if name not in renamed:     # entering: written outside, or a graph input
                result.append(Node("ChannelsLast", [name], [nhwc(name)], {},
                                   f"{name}{NHWC_SUFFIX}"))
        attrs = dict(node.attrs, channels_last=True) if node.op == "QuantizedConv" \
            else node.attrs
        result.append(Node(node.op, [renamed[name] for name in node.inputs],
                           [nhwc(name) for name in node.outputs], attrs, node.name))
        for name in node.outputs:
            if name in leaving:
                result.append(Node("ChannelsLast", [renamed[name]], [name],
                                   {"to_planes": True}, f"{name}#nchw"))
    return result
