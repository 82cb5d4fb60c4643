"""How much a plan computes, and so how many threads it can use.

A second thread pays for itself only when a run has enough work to share:
every split step moves half of what the last step wrote to the other core's
cache, which a run of small layers repays with nothing. Measured at two
threads on seeded CNNs and real models of 2-385 M multiply-adds
(docs/native.md, Threads): below 20 M most ran slower than on one thread
(0.56-0.92x; one of 7.7 M gained 1.15x), from 20 M on all but one (1.00x)
gained 1.05-1.8x. So a run takes one thread per MULTIPLY_ADDS_PER_THREAD;
three and more threads follow the same rule unmeasured."""
import numpy as np

MULTIPLY_ADDS_PER_THREAD = 10_000_000


def multiply_adds(nodes, info):
    """Multiply-adds of a run: its convolutions and matrix products (float and
    integer); the rest is bound by memory, and small beside them."""
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
            left = info[node.inputs[0]][0]      # (M, K), or (K, M) for a Gemm with transA
            inner = left[0] if node.op == "Gemm" and node.attr("transA", 0) else left[-1]
            total += int(np.prod(out)) * int(inner)
    return total


def threads_for(work, threads):
    """Threads (1 to `threads`) for a run of `work` multiply-adds."""
    return max(1, min(threads, work // MULTIPLY_ADDS_PER_THREAD))
