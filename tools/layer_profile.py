"""Per-layer truth: the native backend's time per step beside onnxruntime's
own per-node profile (SessionOptions.enable_profiling) for the same model, at
one thread (or --threads N: both engines at N), one row per layer shape, so
every slow layer shape is visible. The two take turns run by run at one
thread, in blocks of five runs at more (--block N): onnxruntime's workers spin
for about 50 ms after its run returns and would take a core from a native run
right after it, so each block starts once the process is idle
(tools/idle_cores.py). Each node's time is its median over the runs.

Rows are keyed by what decides a layer's speed, not by node name (the two
engines fuse and rename differently): for a convolution its kind (1x1,
depthwise kxk, dense kxk), stride, channels in and out and output map; for
other operators the operator and output shape. onnxruntime's NCHWc layout
nodes (ReorderInput/ReorderOutput) and operators it fused away appear on
their own side only.

usage: python tools/layer_profile.py MODEL.onnx [--runs 20] [--threads 1] [--block N] [--top 40]
                                    [--markdown]
"""
import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict

import numpy as np
import onnx

from idle_cores import wait_for_idle_cores   # run from tools/, as its tests do


def _layer_key(op, x_shape, w_shape, y_shape):
    """'Conv 1x1 144>24 @56x56' and the like, 'int8 Conv ...' for integer
    convolutions; other ops: 'Add 1x24x56x56'."""
    if op in ("QLinearConv", "QuantizedConv") and w_shape is not None and len(w_shape) == 4 \
            and x_shape is not None and len(x_shape) == 4 and y_shape is not None:
        if y_shape[3] == w_shape[0] and y_shape[1] != w_shape[0]:
            # onnxruntime runs its integer convs channels-last
            x_shape, y_shape = (tuple(s[i] for i in (0, 3, 1, 2)) for s in (x_shape, y_shape))
        return "int8 " + _layer_key("Conv", x_shape, w_shape, y_shape)
    if op in ("Conv", "FusedConv") and w_shape is not None and len(w_shape) == 4 \
            and x_shape is not None and len(x_shape) == 4:
        cin, cout = x_shape[1], w_shape[0]
        kernel = f"{w_shape[2]}x{w_shape[3]}"
        depthwise = w_shape[1] == 1 and cin == cout and cin > 1
        stride = max(1, round(x_shape[2] / y_shape[2])) if y_shape[2] else 1
        kind = (f"dw {kernel}" if depthwise else kernel) + (f"/{stride}" if stride > 1 else "")
        return f"Conv {kind} {cin}>{cout} @{y_shape[2]}x{y_shape[3]}"
    return f"{op} " + "x".join(str(d) for d in (y_shape or ()))


def _median_rows(samples, key_of):
    """{key: [nodes, ms]} from {node: [ms per run]}: each node's median run
    (a loaded machine preempts single steps; a mean would charge one step
    for another process's time slice), summed per key."""
    rows = defaultdict(lambda: [0, 0.0])
    for node, times in samples.items():
        rows[key_of[node]][0] += 1
        rows[key_of[node]][1] += float(np.median(times))
    return dict(rows)


def _native_keys(plan):
    keys = {}
    for node, _ in plan.calls:
        shape = lambda i: tuple(plan.info[node.inputs[i]][0]) if len(node.inputs) > i \
            and node.inputs[i] else None  # noqa: E731
        keys[node.name or node.outputs[0]] = _layer_key(
            node.op, shape(0), _quantized_weights_shape(node) if node.op == "QuantizedConv"
            else shape(1) if node.op == "Conv" else None, tuple(plan.info[node.outputs[0]][0]))
    return keys


def _quantized_weights_shape(node):
    """A QuantizedConv's weights as a Conv's (M, C/group, kh, kw): (m, k) for a
    1x1, (c, kh, kw) for a depthwise conv."""
    weights = node.attr("weights").shape
    return (weights[0], weights[1], 1, 1) if len(weights) == 2 else \
        (weights[0], 1) + tuple(weights[1:])


def _ort_session(path, profile_dir, threads=1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(profile_dir, "ort")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def _conv_weight_shapes(model):
    """{Conv node name: its weights' shape}, through a DequantizeLinear of
    the weights in a QDQ model."""
    shapes = {t.name: tuple(t.dims) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in shapes:
            shapes[node.output[0]] = shapes[node.input[0]]
    names = [node.name for node in model.graph.node]
    # only names that say which Conv a profile event is
    return {node.name: shapes.get(node.input[1]) for node in model.graph.node
            if node.op_type == "Conv" and node.name and names.count(node.name) == 1}


def _ort_rows(events, counted, conv_weights=None):
    """{key: [nodes, ms]} from onnxruntime's profile events, its fused and
    layout-transformed graph as it runs (NCHWc channel counts are rounded up
    to its block). Its integer convs have their weights packed away, so
    their shape comes from the model's Conv of the same name
    (`conv_weights`; onnxruntime adds a `_token_N` suffix)."""
    kernel_events = [e for e in events if e.get("cat") == "Node"
                     and e["name"].endswith("_kernel_time")]
    samples, keys = defaultdict(list), {}
    for event in kernel_events:
        args, node = event["args"], event["name"]
        ins = args.get("input_type_shape", [])
        outs = args.get("output_type_shape", [])
        w_shape = _shape(ins[1]) if len(ins) > 1 else None
        if args["op_name"] == "QLinearConv":
            w_shape = (conv_weights or {}).get(node[:-len("_kernel_time")].rsplit("_token_", 1)[0])
        keys[node] = _layer_key(args["op_name"], _shape(ins[0]) if ins else None, w_shape,
                                _shape(outs[0]) if outs else None)
        samples[node].append(event["dur"] / 1000.0)
    # counted[i]: whether the i-th run is (each node has one event a run)
    return _median_rows({node: [t for t, c in zip(times, counted) if c]
                         for node, times in samples.items()}, keys)


def _shape(entry):
    return tuple(next(iter(entry.values()))) if entry else None


def default_block(threads):
    """Runs per turn: one at one thread; five at more, after one uncounted
    run that follows the other engine's spinning workers."""
    return 1 if threads == 1 else 5


def _turns(warmup, runs, block):
    """(engine, counted) for each run in order: each engine's `warmup` runs,
    then turns of `block` counted runs, each led by an uncounted one when
    block > 1, until each engine has `runs` counted."""
    order = [(engine, False) for engine in ("native", "ort") for _ in range(warmup)]
    counted = {"native": 0, "ort": 0}
    while min(counted.values()) < runs:
        for engine in ("native", "ort"):
            order += [(engine, False)] * (block > 1)
            take = min(block, runs - counted[engine])
            order += [(engine, True)] * take
            counted[engine] += take
    return order


def layers(path, x, runs, warmup=3, threads=1, block=None):
    """({key: [nodes, ms]} native, the same for onnxruntime, the threads
    native ran on), both asked for `threads` threads (native takes fewer for
    a model with too little work to share: native/work.py): the two engines
    take turns, run by run or in blocks (_turns), so a loaded machine's noise
    falls on both."""
    from edgeinfer.native import NativeBackend

    engine = NativeBackend(path, threads=threads)
    name = engine.input_names[0]
    engine.run({name: x})
    keys = _native_keys(engine._prepare({name: x}))
    samples = defaultdict(list)
    ort_counted = []
    with tempfile.TemporaryDirectory() as tmp:
        session = _ort_session(path, tmp, threads)
        feed = {session.get_inputs()[0].name: x}
        block = block or default_block(threads)
        last = None
        for which, counted in _turns(warmup, runs, block):
            if block > 1 and which != last:
                wait_for_idle_cores()   # the other engine's workers may still spin
            last = which
            if which == "ort":
                session.run(None, feed)
                ort_counted.append(counted)
                continue
            _, steps = engine.run({name: x}, profile=True)
            if counted:
                for _, node_name, ms in steps:
                    samples[node_name].append(ms)
        with open(session.end_profiling()) as f:
            events = json.load(f)
    return _median_rows(samples, keys), _ort_rows(events, ort_counted,
                                                  _conv_weight_shapes(onnx.load(path))), \
        engine.threads_used


def _nchwc_aliases(native, ort):
    """onnxruntime's NCHWc convs report channel counts rounded up to its block
    (3 -> 8 on the stem): map each such key onto the native key it stands for."""
    aliases = {}
    for key in ort:
        if key in native or not key.startswith("Conv "):
            continue
        kind, channels, where = key.rsplit(" ", 2)
        for candidate in native:
            if candidate.startswith(kind + " ") and candidate.endswith(" " + where) \
                    and candidate not in ort and candidate not in aliases.values():
                ours = candidate.rsplit(" ", 2)[1].split(">")
                theirs = channels.split(">")
                if all(int(a) <= int(b) < int(a) + 16 for a, b in zip(ours, theirs)):
                    aliases[key] = candidate
                    break
    return aliases


def table(path, runs=20, seed=0, threads=1, block=None):
    model = onnx.load(path, load_external_data=False)
    dims = [d.dim_value or 1 for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
    native, ort, used = layers(path, x, runs, threads=threads, block=block)
    if used < threads:
        print(f"layer_profile: native ran on {used} of the {threads} threads asked: the model has "
              "too little work to share (docs/native.md, Threads)", file=sys.stderr)
    for theirs, ours in _nchwc_aliases(native, ort).items():
        count, ms = ort.pop(theirs)
        ort.setdefault(ours, [0, 0.0])
        ort[ours][0] += count
        ort[ours][1] += ms
    rows = []
    for key in set(native) | set(ort):
        n_nodes, n_ms = native.get(key, (0, 0.0))
        o_nodes, o_ms = ort.get(key, (0, 0.0))
        rows.append((key, n_nodes, o_nodes, n_ms, o_ms))
    rows.sort(key=lambda r: -max(r[3], r[4]))
    return rows


def format_rows(rows, top=None, markdown=False):
    total_n = sum(r[3] for r in rows)
    total_o = sum(r[4] for r in rows)
    shown = rows[:top] if top else rows
    if markdown:
        lines = ["| layer | nodes native / ort | native ms | ort ms | native / ort |",
                 "|---|---:|---:|---:|---:|"]
        fmt = "| {} | {} / {} | {:.3f} | {:.3f} | {} |"
    else:
        lines = [f"{'layer':40} {'nodes n/o':>9} {'native ms':>10} {'ort ms':>9} {'ratio':>7}"]
        fmt = "{:40} {:>4} /{:>3} {:10.3f} {:9.3f} {:>7}"
    for key, n_nodes, o_nodes, n_ms, o_ms in shown:
        ratio = f"{n_ms / o_ms:.2f}x" if n_ms and o_ms else "-"
        lines.append(fmt.format(key, n_nodes, o_nodes, n_ms, o_ms, ratio))
    if markdown:
        lines.append(f"| **all steps** | | **{total_n:.2f}** | **{total_o:.2f}** | "
                     f"**{total_n / total_o:.2f}x** |")
    else:
        lines.append(f"{'all steps':40} {'':9} {total_n:10.3f} {total_o:9.3f} "
                     f"{total_n / total_o:6.2f}x")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of both engines (onnxruntime's intra-op threads)")
    parser.add_argument("--block", type=int, default=None,
                        help="runs per engine per turn (default 1 at one thread, 5 at more)")
    parser.add_argument("--top", type=int, default=None, help="show only the slowest N rows")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.model):
        print(f"layer_profile: {args.model} does not exist", file=sys.stderr)
        return 2
    if args.threads < 1:
        print(f"layer_profile: --threads must be 1 or more, not {args.threads}", file=sys.stderr)
        return 2
    if args.block is not None and args.block < 1:
        print(f"layer_profile: --block must be 1 or more, not {args.block}", file=sys.stderr)
        return 2
    print(format_rows(table(args.model, args.runs, threads=args.threads, block=args.block),
                      args.top, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
