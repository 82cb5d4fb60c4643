"""The backend table for docs/native.md: latency p50/p90 of each backend on
each model, measured in one run with the backends interleaved (so they share
the machine's noise), ratios against onnxruntime, peak memory (VmHWM) of a
process that loads the model and runs it with one backend, and where the native
backend's time goes.

usage: python benchmarks/backends_table.py [--runs 30] [--models small-cnn-96,efficientnet-lite0]
"""
import argparse
import os
import platform
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from backend_models import BACKENDS, MODELS, Unavailable, input_for, model_path, runner  # noqa: E402
from tools.idle_cores import wait_for_idle_cores  # noqa: E402


def latencies(runs_by_backend, x, runs, block=1, warmup=3):
    """{backend: [seconds per run]}. The backends take turns, run by run
    (block=1) or `block` runs at a time, so they share the machine's noise;
    with several threads in blocks, because the worker threads of one runtime
    keep spinning for a while after its run and would slow the next: each
    block starts once the last one's threads are idle (tools/idle_cores.py),
    and its first run is warm-up, not counted."""
    times = {name: [] for name in runs_by_backend}
    for run in runs_by_backend.values():
        for _ in range(warmup):
            run(x)
    while min(len(t) for t in times.values()) < runs:
        for name, run in runs_by_backend.items():
            if block > 1:
                wait_for_idle_cores()
            for turn in range(block + (block > 1)):
                start = time.perf_counter()
                run(x)
                if turn > 0 or block == 1:
                    times[name].append(time.perf_counter() - start)
    return {name: t[:runs] for name, t in times.items()}


def peak_rss_mb(backend, path):
    """Peak resident memory (MB) of a fresh process that loads `path` with
    `backend` and runs it five times."""
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
            "from backend_models import runner, input_for; "
            f"run = runner({backend!r}, {path!r}, 1); _, x = input_for({path!r}); "
            "[run(x) for _ in range(5)]; "
            # VmHWM, not ru_maxrss: the latter carries the parent's peak across fork + exec
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return int(result.stdout.strip().splitlines()[-1]) / 1024.0   # kB -> MB


def profile_lines(path, top=8):
    from edgeinfer.native import NativeBackend, profile_by_operator

    name, x = input_for(path)
    engine = NativeBackend(path, threads=1)
    engine.run({name: x})
    rows = profile_by_operator(engine.profile({name: x}, repeat=10))
    total = sum(ms for _, _, ms in rows)
    lines = ["| operator | nodes | ms | share |", "|---|---:|---:|---:|"]
    for op, count, ms in rows[:top]:
        lines.append(f"| {op} | {count} | {ms:.2f} | {100 * ms / total:.0f}% |")
    return lines


def table(models, runs, thread_settings):
    lines = []
    for model in models:
        try:
            path = model_path(model)
        except Unavailable as error:
            lines.append(f"\n{model}: skipped ({error})\n")
            continue
        _, x = input_for(path)
        lines += [f"\n### {model}\n", "| threads | backend | p50 ms | p90 ms | vs onnxruntime (p50) "
                  "| peak RSS MB |", "|---|---|---:|---:|---:|---:|"]
        rss = {backend: peak_rss_mb(backend, path) for backend in BACKENDS}
        for threads in thread_settings:
            runs_by_backend = {}
            for backend in BACKENDS:
                try:
                    runs_by_backend[backend] = runner(backend, path, threads)
                except (Unavailable, ImportError) as error:
                    lines.append(f"| {threads or 'all'} | {backend} | unavailable: {error} | | | |")
            times = latencies(runs_by_backend, x, runs, block=1 if threads == 1 else 5)
            base = np.median(times["onnxruntime"]) if "onnxruntime" in times else None
            for backend, seconds in times.items():
                p50, p90 = np.percentile(seconds, 50) * 1e3, np.percentile(seconds, 90) * 1e3
                ratio = f"{p50 / (base * 1e3):.2f}x" if base else "n/a"
                memory = f"{rss[backend]:.0f}" if rss.get(backend) and threads == 1 else ""
                lines.append(f"| {threads or 'all'} | {backend} | {p50:.2f} | {p90:.2f} | "
                             f"{ratio} | {memory} |")
        lines += [f"\nNative backend, 1 thread, where the time goes ({model}):\n"]
        lines += profile_lines(path)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", default="1,0", help="thread counts, 0 for all cores")
    args = parser.parse_args(argv)
    import cv2
    import onnxruntime

    import edgeinfer

    info = edgeinfer.build_info()
    print(f"{platform.machine()}, {os.cpu_count()} cores, simd {info['simd_active']}; "
          f"onnxruntime {onnxruntime.__version__}, OpenCV {cv2.__version__}; "
          f"{args.runs} runs per backend, interleaved; command: "
          f"python benchmarks/backends_table.py --runs {args.runs}")
    for line in table(args.models.split(","), args.runs,
                      [int(t) for t in args.threads.split(",")]):
        print(line)


if __name__ == "__main__":
    main()
