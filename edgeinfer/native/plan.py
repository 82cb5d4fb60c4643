"""An execution plan for one set of input shapes: the folded and rewritten
nodes, each bound to fixed buffers in one arena. Running it is a loop of
calls that allocate nothing; only the returned outputs are new arrays."""
from __future__ import annotations

import time

import numpy as np

from .. import memory_limit
from .fold import fold
from .kernel import Operand
from .memory import ALIGN, Lifetime, place
from .ops import OPS
from .quantized import run_integer_kernels
from .rewrite import rewrite
from .work import multiply_adds


def _operands(node, constants, info):
    return [None if not name else Operand(info[name][0], info[name][1], constants.get(name))
            for name in node.inputs]


def _aligned_arena(nbytes):
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start:start + nbytes]


class Plan:
    def __init__(self, graph, input_shapes, origin="the model", folded=None):
        """folded: (nodes, constants, info) already folded and rewritten for these
        shapes (from the plan cache); graph then needs only inputs, outputs, opset."""
        self.origin = origin
        self.output_names = [t.name for t in graph.outputs]
        if folded is None:
            nodes, constants, info = fold(graph, input_shapes, origin)
            nodes = rewrite(nodes, constants, info, self.output_names, graph.opset)
            nodes = run_integer_kernels(nodes, constants, info, self.output_names, graph.nodes)
        else:
            nodes, constants, info = folded
        kernels = [OPS[n.op](n, _operands(n, constants, info), graph.opset) for n in nodes]
        self.nodes = nodes
        self.multiply_adds = multiply_adds(nodes, info)
        self.threads = 1    # what a run may use: set by the backend (native/work.py)
        # only what the steps read: weights replaced by folded ones are not kept twice
        used = {name for node in nodes for name in node.inputs} | set(self.output_names)
        self.constants = {k: np.asarray(v, order="C") for k, v in constants.items() if k in used}
        for t in graph.inputs:
            memory_limit.check(memory_limit.tensor_bytes(*info[t.name]), f"input {t.name!r}",
                               origin)
        self.inputs = {t.name: np.zeros(info[t.name][0], info[t.name][1]) for t in graph.inputs}
        self.arena_bytes, buffers = self._allocate(nodes, kernels, info)
        self.buffers = buffers
        self.calls = []
        for node, kernel in zip(nodes, kernels):
            if kernel.view_of is not None:
                continue
            ins = [self._array(name) for name in node.inputs]
            outs = [buffers[name] if name else np.empty(shape, dtype) for name, shape, dtype in
                    zip(node.outputs, kernel.shapes, kernel.dtypes)]
            self.calls.append((node, kernel.bind(ins, outs)))
        self._calls_only = [call for _, call in self.calls]
        self._outputs = [self._array(name) for name in self.output_names]
        self.info = info

    def _array(self, name):
        if not name:
            return None
        if name in self.constants:
            return self.constants[name]
        if name in self.inputs:
            return self.inputs[name]
        return self.buffers[name]

    def _allocate(self, nodes, kernels, info):
        """Places every tensor a step writes; views share their source's place."""
        root = {}
        writer = {}
        for step, (node, kernel) in enumerate(zip(nodes, kernels)):
            if kernel.view_of is not None:
                source = node.inputs[kernel.view_of]
                root[node.outputs[0]] = root.get(source, source)
                continue
            for name in node.outputs:
                if name:
                    root[name] = name
                    writer[name] = step
        last = {name: step for name, step in writer.items()}
        for step, node in enumerate(nodes):
            for name in node.inputs:
                if name in root and root[name] in last:
                    last[root[name]] = max(last[root[name]], step)
        for name in self.output_names:
            if root.get(name) in last:
                last[root[name]] = len(nodes)
        lifetimes = []
        for name, step in writer.items():
            shape, dtype = info[name]
            nbytes = memory_limit.tensor_bytes(shape, dtype)
            lifetimes.append(Lifetime(name, nbytes, step, last[name]))
        largest = max(lifetimes, key=lambda item: item.nbytes, default=None)
        if largest is not None:
            node = nodes[largest.first]
            memory_limit.check(largest.nbytes, f"the output of node "
                               f"{node.name or node.outputs[0]!r} ({node.op})", self.origin)
        offsets, total = place(lifetimes)
        if largest is not None:
            memory_limit.check(total, f"the memory plan (its largest tensor is written by node "
                               f"{node.name or node.outputs[0]!r}, {node.op})", self.origin)
        arena = _aligned_arena(total)
        self.arena = arena
        buffers = {}
        for item in lifetimes:
            shape, dtype = info[item.name]
            start = offsets[item.name]
            buffers[item.name] = arena[start:start + item.nbytes].view(dtype).reshape(shape)
        for node, kernel in zip(nodes, kernels):
            if kernel.view_of is not None:
                source = node.inputs[kernel.view_of]
                base = buffers.get(source, self.inputs.get(source))
                if base is None:
                    base = self.constants[source]
                buffers[node.outputs[0]] = base.reshape(kernel.shapes[0])
        return total, buffers

    def feed(self, name, value):
        np.copyto(self.inputs[name], value, casting="same_kind")

    def run(self):
        for call in self._calls_only:
            call()
        return [np.array(output) for output in self._outputs]

    def run_timed(self):
        """Outputs, and the seconds each step took."""
        times = []
        for node, call in self.calls:
            start = time.perf_counter()
            call()
            times.append((node, time.perf_counter() - start))
        return [np.array(self._array(name)) for name in self.output_names], times
