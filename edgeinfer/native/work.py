"""How much a plan computes, and so how many threads it can use.

A second thread pays for itself only when a run has enough work to share:
every split step moves half of what the last step wrote to the other core's
cache, which a run of small layers repays with nothing. Measured on seeded
CNNs and real models of 2-385 M multiply-adds (docs/native.md, Threads): at
two threads small models ran 0.56-0.92x their one-thread speed below 20 M,
1.05-1.8x above. So a run takes one thread per MULTIPLY_ADDS_PER_THREAD.
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
