"""How much a plan computes, and so how many threads it can use.

A second thread pays for itself only when a run has enough work to share:
every split step moves half of what the last step wrote to the other core's
cache, which a run of small layers repays with nothing. Measured on the
near-idle 2-core Xeon, the two-thread run's speed over the one-thread run's
(whole runs, taking turns in blocks of five runs in one process), by the
model's multiply-adds: seeded inverted-residual CNNs of 2.1 / 8.6 / 19 / 34 /
77 / 137 M 0.56 / 0.81 / 0.92 / 1.14 / 1.37 / 1.52x; seeded MobileNet-like
CNNs of 1.9 / 7.7 / 24 M 0.87 / 1.15 / 1.18x; mini-Xception (10 M) 0.92x, the
small CNN (4.4 M) 0.82x; Keras MobileNetV2s of 50 / 59 / 99 M (widths 0.5,
0.35, 1.0 at 160, 224, 128 pixels) 1.05 / 1.00 / 1.23x; EfficientNet-Lite0
(385 M) 1.5-1.8x. So a run takes one thread per MULTIPLY_ADDS_PER_THREAD:
two from 20 M on.
"""
import numpy as np

MULTIPLY_ADDS_PER_THREAD = 10_000_000


def multiply_adds(nodes, info):
    """Multiply-adds of one run of the planned nodes: their convolutions and
    matrix products (float and integer); the rest is bound by memory, not
    arithmetic, and small beside them."""
    total = 0
    for node in nodes:
        out = info[node.outputs[0]][0]
        if node.op == "Conv":
            total += int(np.prod(out)) * int(np.prod(info[node.inputs[1]][0][1:]))
        elif node.op == "QuantizedConv":
            # weights (M, K) for a 1x1 or dense, (C, kh, kw) for a depthwise
            weights = node.attr("weights").shape
            total += int(np.prod(out)) * int(np.prod(weights[1:]))
        elif node.op in ("Gemm", "MatMul"):
            total += int(np.prod(out)) * int(info[node.inputs[0]][0][-1])
    return total


def threads_for(work, threads):
    """Threads (1 to `threads`) for a run of `work` multiply-adds."""
    return max(1, min(threads, work // MULTIPLY_ADDS_PER_THREAD))
