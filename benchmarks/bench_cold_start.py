"""Cold start: process start -> first printed prediction, in fresh processes.

    python benchmarks/bench_cold_start.py [--model M.onnx] [--image PHOTO] [--runs 7]

Times `edgeinfer run --image PHOTO` with onnxruntime, with native on a cold
plan cache (emptied before each run) and on a warm one, `import edgeinfer`
alone, and the 4-line cv2.dnn script as the reference; the median of --runs
fresh processes each (warm disk cache: one untimed run first). Not a
pytest-benchmark module: what it times is a whole process."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CV2_DNN = """
import cv2, sys
net = cv2.dnn.readNetFromONNX(sys.argv[1])
net.setInput(cv2.dnn.blobFromImage(cv2.imread(sys.argv[2]), 1 / 255, (224, 224), swapRB=True))
print(sys.argv[2], net.forward().argmax(), flush=True)
"""


def first_line_seconds(command, env):
    """Seconds from starting `command` to its first line on standard output."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=env, cwd=ROOT)
    line = process.stdout.readline()
    seconds = time.perf_counter() - start
    process.communicate()
    if process.returncode != 0 or not line:
        raise SystemExit(f"{' '.join(command)} failed (exit {process.returncode})")
    return seconds


def median_seconds(command, runs, env, before_each=None):
    first_line_seconds(command, env)      # warms the disk cache; not counted
    times = []
    for _ in range(runs):
        if before_each:
            before_each()
        times.append(first_line_seconds(command, env))
    return statistics.median(times), min(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "models", "efficientnet-lite0.onnx"))
    parser.add_argument("--image", default=os.path.join(ROOT, "edgeinfer", "data", "chelsea.jpg"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not os.path.isfile(args.model):
        raise SystemExit(f"no model at {args.model}: `make demo-model`, or give --model")
    cache = tempfile.mkdtemp(prefix="edgeinfer-cold-start-")
    env = {**os.environ, "EDGEINFER_CACHE_DIR": cache}
    run = [sys.executable, "-m", "edgeinfer", "run", "--model", args.model, "--image", args.image,
           "--top-k", "1", "--backend"]

    def empty_cache():
        shutil.rmtree(cache, ignore_errors=True)

    cases = [("import edgeinfer", [sys.executable, "-c", "import edgeinfer; print('ok')"], None),
             ("edgeinfer run --backend onnxruntime", run + ["onnxruntime"], None),
             ("edgeinfer run --backend native (cold plan cache)", run + ["native"], empty_cache),
             ("edgeinfer run --backend native (warm plan cache)", run + ["native"], None),
             ("cv2.dnn 4-line script (reference)", [sys.executable, "-c", CV2_DNN, args.model,
                                                    args.image], None)]
    results = {}
    print(f"| {os.path.basename(args.model)}, median of {args.runs} | start -> first "
          "prediction | min .. max | x cv2.dnn |\n|---|---|---|---|")
    for name, command, before in cases:
        results[name] = median_seconds(command, args.runs, env, before)
    reference = results["cv2.dnn 4-line script (reference)"][0]
    for name, (median, low, high) in results.items():
        print(f"| {name} | {median:.2f} s | {low:.2f} .. {high:.2f} | {median / reference:.1f}x |")
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
