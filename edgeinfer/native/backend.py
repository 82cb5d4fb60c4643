"""NativeBackend: runs an ONNX model on edgeinfer's compiled core with numpy,
without onnxruntime or any framework."""
from __future__ import annotations

import os
from collections import defaultdict

import numpy as np

from ..core.loader import core
from ..core.runtime import num_threads
from ..model_file import open_model_file
from . import plan_cache
from .errors import ADVICE, NativeModelError
from .fold import check_operators
from .graph import Graph, read_graph
from .plan import Plan
from .work import threads_for

MAX_PLANS = 4


class NativeBackend:
    """NativeBackend(path, bytes, ModelFile or ModelProto, threads=None).

    run({input name: array}) -> [output arrays]. Everything that can be done
    once is done when a set of input shapes is first seen (at load when the
    model's input shapes are fixed; a free batch axis is planned as 1). The
    load-time plan of a file is kept in the plan cache (plan_cache.py): a
    second start of the same file reads it back and parses nothing; the graph
    itself is read only when another set of shapes needs planning.

    threads: the most a run uses (None: the core's default, all cores); a
    model with too little work to share runs on fewer (native/work.py)."""

    def __init__(self, model, threads=None, origin=None):
        self.threads = threads
        self._plans = {}
        self._last_key = self._last_plan = None
        self._graph = None
        # an onnx.ModelProto, built in memory (no file to cache the plan of): read as its bytes
        in_memory = hasattr(model, "SerializeToString")
        self._file = open_model_file(model.SerializeToString() if in_memory else model)
        self.origin = origin or self._file.origin
        # the key is the file's bytes: weights kept in other files are not in it
        with self._file.reading():
            external = any(t.external for t in self._file.wire.graph.initializers)
        cache_entry = None if external or in_memory else plan_cache.entry_path(self._file.data)
        cached = plan_cache.load(cache_entry)
        if cached is not None:
            self.inputs, self.outputs = cached["inputs"], cached["outputs"]
        else:
            self.inputs, self.outputs = self.graph.inputs, self.graph.outputs
        self.input_names = [t.name for t in self.inputs]
        self.output_names = [t.name for t in self.outputs]
        self.input_shapes = [t.shape for t in self.inputs]
        self.input_dtypes = [t.dtype for t in self.inputs]
        if cached is not None:
            light = Graph([], {}, self.inputs, self.outputs, cached["opset"])
            self._remember(cached["shapes"], Plan(light, cached["shapes"], self.origin, folded=(
                cached["nodes"], cached["constants"], cached["info"])))
            return
        shapes = self._load_time_shapes()
        if shapes is None:
            # planned on the first run; what needs no shapes is refused now
            check_operators(self.graph, self.origin)
        else:
            plan = self._plan(shapes)     # refuses every blocking operator and node at once
            plan_cache.save(cache_entry, self.graph, shapes, plan)

    @property
    def graph(self):
        """The model's graph as read from the file (parsed on first use)."""
        if self._graph is None:
            self._graph = read_graph(self._file)
        return self._graph

    def _load_time_shapes(self):
        """Input shapes to plan for at load: declared ones with a free batch
        axis taken as 1, or None when other axes are free."""
        shapes = {}
        for t in self.inputs:
            if t.shape is None or any(d is None for d in t.shape[1:]):
                return None
            shapes[t.name] = tuple(1 if d is None else d for d in t.shape)
        return shapes

    def _plan(self, shapes):
        key = tuple(tuple(shapes[name]) for name in self.input_names)
        plan = self._plans.pop(key, None)
        if plan is None:
            plan = Plan(self.graph, shapes, self.origin)
        return self._remember(shapes, plan)

    def _remember(self, shapes, plan):
        # each plan holds an arena: keep the few shapes seen last (a stream
        # of frames uses one or two batch sizes)
        key = tuple(tuple(shapes[name]) for name in self.input_names)
        with num_threads(int(self.threads or 0)):    # what the core takes of the count asked
            plan.threads = threads_for(plan.multiply_adds, core.get_num_threads())
        while len(self._plans) >= MAX_PLANS:
            self._plans.pop(next(iter(self._plans)))
        self._plans[key] = plan
        return plan

    def _prepare(self, inputs):
        if not isinstance(inputs, dict):
            inputs = dict(zip(self.input_names, inputs))
        missing = [n for n in self.input_names if n not in inputs]
        if missing:
            raise NativeModelError(f"{self.origin} needs inputs {missing}; given {list(inputs)}")
        arrays = {n: np.asarray(inputs[n]) for n in self.input_names}
        key = tuple(a.shape for a in arrays.values())
        # the shapes of the last run were checked and planned then: a stream
        # of frames skips straight to feeding them (a ~0.5 ms model runs
        # thousands of times a second, each check a few microseconds)
        if key == self._last_key:
            plan = self._last_plan
        else:
            for name, declared in zip(self.input_names, self.input_shapes):
                shape = arrays[name].shape
                if declared is not None and (len(shape) != len(declared) or any(
                        d is not None and d != s for d, s in zip(declared, shape))):
                    raise NativeModelError(f"{self.origin}: input {name!r} takes shape "
                                           f"{declared}, given {shape}")
            plan = self._plan({n: a.shape for n, a in arrays.items()})
            self._last_key, self._last_plan = key, plan
        for name, array in arrays.items():
            plan.feed(name, array)
        return plan

    def run(self, inputs, profile=False):
        """Outputs (new arrays) for {input name: array} (or a list in input
        order). With profile=True: (outputs, [(kind, node name, ms)] in
        execution order) for this one run."""
        plan = self._prepare(inputs)
        if not profile:
            # num_threads() written out: its generator cost ~2 us a run
            before = core.get_num_threads()
            core.set_num_threads(plan.threads)
            try:
                return plan.run()
            finally:
                core.set_num_threads(before)
        with num_threads(plan.threads):
            outputs, times = plan.run_timed()
        return outputs, [(step_kind(node, plan.info), node.name or node.outputs[0], 1000.0 * t)
                         for node, t in times]

    @property
    def threads_used(self):
        """Threads a run of the last (or load-time) plan uses; None before one."""
        plan = self._last_plan or next(iter(self._plans.values()), None)
        return plan.threads if plan is not None else None

    def profile(self, inputs, repeat=10):
        """Where the time goes: [(op, node name, mean milliseconds)] over
        `repeat` runs, slowest first."""
        plan = self._prepare(inputs)
        totals = defaultdict(float)
        kinds = {}
        for _ in range(repeat):
            with num_threads(plan.threads):
                _, times = plan.run_timed()
            for node, seconds in times:
                name = node.name or node.outputs[0]
                totals[name] += seconds
                kinds[name] = step_kind(node, plan.info)
        rows = [(kinds[name], name, 1000.0 * total / repeat) for name, total in totals.items()]
        return sorted(rows, key=lambda row: -row[2])

    def plan_summary(self, inputs=None):
        """Operators left to run per frame and the arena size, for the planned shapes."""
        plan = self._prepare(inputs) if inputs is not None else next(iter(self._plans.values()))
        counts = defaultdict(int)
        for node, _ in plan.calls:
            key = node.op + ("+residual" if node.attr("_residual") else "") + \
                ("+clamp" if node.attr("_clamp") is not None else "") + \
                (f"+{node.attr('_activation')}" if node.attr("_activation") else "")
            counts[key] += 1
        return {"steps": len(plan.calls), "operators": dict(counts),
                "arena_bytes": plan.arena_bytes}


def step_kind(node, info):
    """The operator, and for Conv its shape class (1x1, depthwise 3x3, ...),
    which is what decides its speed."""
    if node.op != "Conv":
        return node.op
    weight_shape = info[node.inputs[1]][0]
    channels = info[node.inputs[0]][0][1]
    groups = int(node.attr("group", 1))
    kernel = "x".join(str(d) for d in weight_shape[2:])
    kind = f"Conv {kernel}"
    if groups > 1:
        kind += " depthwise" if groups == channels else " grouped"
    if any(s > 1 for s in node.attr("strides", [])):
        kind += " strided"
    return kind


def profile_by_operator(rows):
    """Profile rows summed per operator: [(op, count, ms)], slowest first."""
    totals, counts = defaultdict(float), defaultdict(int)
    for op, _, ms in rows:
        totals[op] += ms
        counts[op] += 1
    return sorted(((op, counts[op], totals[op]) for op in totals), key=lambda r: -r[2])


__all__ = ["NativeBackend", "NativeModelError", "ADVICE", "profile_by_operator"]
