"""Kernel speed of two checkouts, interleaved: did a change leave the kernels as
fast as they were? Each checkout (built in place) runs in its own worker
process; the driver asks both for the same case in turn, alternating which
goes first, and keeps each one's fastest batch. On a shared machine the minimum
over many interleaved batches is what the code can do, and load falls on both
alike, so the before/after column means something where a pytest-benchmark run
of each would not.

usage: python tools/bench_ab.py BEFORE_DIR AFTER_DIR [--rounds 8]
prints a Markdown table: each case's time in both, after/before, and its
ratios to the numpy reference and OpenCV measured in the same worker."""
import argparse
import collections
import os
import subprocess
import sys
import time


def worker(tree):
    """Reads a case name per line; prints the fastest single call of a batch."""
    import cv2
    import numpy as np

    import edgeinfer
    from edgeinfer import kernels, reference

    cv2.setNumThreads(1)
    sys.path.insert(0, os.path.join(tree, "benchmarks"))
    from bench_conv2d import CASES, arrays

    rng = np.random.default_rng(0)
    frames = {f"{w}x{h}": rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
              for w, h in ((640, 480), (1280, 720), (1920, 1080))}
    mean, std = edgeinfer.IMAGENET_MEAN, edgeinfer.IMAGENET_STD
    out = np.empty((1, 3, 224, 224), np.float32)
    fmap = rng.standard_normal((1, 32, 112, 112)).astype(np.float32)
    gray = rng.integers(0, 256, (480, 640), dtype=np.uint8)
    gaussian3 = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16

    def opencv_pipeline(frame):
        rgb = cv2.cvtColor(cv2.resize(frame, (224, 224), interpolation=cv2.INTER_LINEAR),
                           cv2.COLOR_BGR2RGB)
        return ((rgb.astype(np.float32) / 255 - np.float32(mean)) / np.float32(std)) \
            .transpose(2, 0, 1)[None]

    calls = {}
    for name, frame in frames.items():
        calls[f"preprocess {name}|ours"] = lambda f=frame: edgeinfer.preprocess(
            f, size=(224, 224), mean=mean, std=std, out=out)
        calls[f"preprocess {name}|opencv"] = lambda f=frame: opencv_pipeline(f)
        calls[f"preprocess {name}|numpy"] = lambda f=frame: reference.preprocess(
            f, size=(224, 224), mean=np.float32(mean), std=np.float32(std))
    for name, (_, _, kw) in CASES.items():
        x, w, b = arrays(name)
        calls[f"conv2d {name}|ours"] = lambda x=x, w=w, b=b, kw=kw: edgeinfer.conv2d(x, w, b, **kw)
        calls[f"conv2d {name}|numpy"] = lambda x=x, w=w, b=b, kw=kw: reference.conv2d(x, w, b,
                                                                                      **kw)
    calls["filter2d gaussian3 480x640|ours"] = lambda: edgeinfer.filter2d(gray, "gaussian3")
    calls["filter2d gaussian3 480x640|opencv"] = lambda: cv2.filter2D(gray, -1, gaussian3)
    calls["max_pool 3x3/2|ours"] = lambda: kernels.max_pool2d(fmap, 3, stride=2, padding=1)
    calls["avg_pool 2x2/2|ours"] = lambda: kernels.avg_pool2d(fmap, 2, stride=2)
    calls["global_avg_pool|ours"] = lambda: kernels.global_avg_pool(fmap)
    print("\t".join(calls), flush=True)
    for line in sys.stdin:
        key = line.rstrip("\n")
        batch = 1 if key.endswith("|numpy") else 20  # the reference is 100x slower
        best = float("inf")
        for _ in range(batch):
            start = time.perf_counter()
            calls[key]()
            best = min(best, time.perf_counter() - start)
        print(best, flush=True)


def drive(trees, rounds):
    procs = {}
    for label, tree in trees.items():
        env = dict(os.environ, PYTHONPATH=tree, OMP_NUM_THREADS="1")
        procs[label] = subprocess.Popen([sys.executable, __file__, "--worker", tree], cwd=tree,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
    keys = [procs[label].stdout.readline().rstrip("\n").split("\t") for label in trees][0]
    best = collections.defaultdict(lambda: float("inf"))
    order = list(trees)
    for r in range(rounds):
        for key in keys:
            if key.endswith("|numpy") and r % 3:
                continue
            for label in (order if r % 2 == 0 else order[::-1]):
                procs[label].stdin.write(key + "\n")
                procs[label].stdin.flush()
                best[label, key] = min(best[label, key], float(procs[label].stdout.readline()))
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    return keys, best


def table(keys, best, before="before", after="after"):
    lines = [f"| case | {before} (µs) | {after} (µs) | {after}/{before} time | {before}: "
             f"others/ours | {after}: others/ours |", "|---|---|---|---|---|---|"]
    for case in sorted({key.split("|")[0] for key in keys}):
        b, a = best[before, f"{case}|ours"], best[after, f"{case}|ours"]
        others = [s for s in ("numpy", "opencv") if (before, f"{case}|{s}") in best]

        def ratios(label, ours):
            return "; ".join(f"{s} {best[label, f'{case}|{s}'] / ours:.1f}×" for s in others) \
                or "—"
        lines.append(f"| {case} | {b * 1e6:.0f} | {a * 1e6:.0f} | {a / b:.2f} | "
                     f"{ratios(before, b)} | {ratios(after, a)} |")
    return "\n".join(lines)


def main():
    if sys.argv[1:2] == ["--worker"]:
        return worker(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    trees = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    print(table(*drive(trees, args.rounds)))


if __name__ == "__main__":
    main()
