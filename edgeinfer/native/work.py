"""How much a plan computes, and so how many threads it can use.

A second thread pays for itself only when a run has enough work to share:
every split step moves half of what the last step wrote to the other core's
cache, which a 40-step run of small layers repays with nothing. Measured at
two threads on the near-idle 2-core Xeon (whole runs, one and two threads
taking turns in blocks of five runs in one process), two-thread speed over
one-thread: mini-Xception (10 M multiply-adds) 0.76-0.92x, the small CNN
(4.4 M) 0.81-0.92x, a seeded MobileNet-like CNN at 224x224 (24 M) 0.73-0.83x,
against EfficientNet-Lite0 (385 M) 1.5-1.8x and MobileNetV2 (301 M)
1.5-1.7x (onnxruntime itself 0.8-1.1x on the small ones). So a plan under
MULTIPLY_ADDS_PER_THREAD per thread it would use runs on fewer threads."""
import numpy as np

MULTIPLY_ADDS_PER_THREAD = 50_000_000


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
