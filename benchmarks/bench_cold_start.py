"""Cold start: process start -> first printed prediction, in fresh processes.

    python benchmarks/bench_cold_start.py [--model M.onnx] [--image PHOTO] [--runs 7]

Times `edgeinfer run --image PHOTO` with onnxruntime, with native on a cold
plan cache (emptied before each run) and on a warm one, `import edgeinfer`
alone, and the 4-line cv2.dnn script as the reference. The cases take turns,
round by round (each round in another order), so a machine that other jobs
load slows every case alike and the ratios to cv2.dnn hold; the median of
--runs rounds is reported, with the median CPU time (user + sys) of a process,
which such load inflates less (warm disk cache: one untimed round first). Not
a pytest-benchmark module: what it times is a whole process."""
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
    """(seconds from starting `command` to its first line on standard output,
    CPU seconds the whole process used)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=env, cwd=ROOT)
    line = process.stdout.readline()
    seconds = time.perf_counter() - start
    process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or not line:
        raise SystemExit(f"{' '.join(command)} failed (exit {process.returncode})")
    return seconds, usage.ru_utime + usage.ru_stime


def interleaved(cases, runs, env):
    """{name: ([wall seconds], [cpu seconds])}, the cases taking turns each round."""
    times = {name: ([], []) for name, _, _, _ in cases}
    for round_number in range(runs + 1):
        shift = round_number % len(cases)
        for name, command, before, extra_env in cases[shift:] + cases[:shift]:
            if before:
                before()
            wall, cpu = first_line_seconds(command, {**env, **extra_env})
            if round_number:     # the first round warms the disk cache
                times[name][0].append(wall)
                times[name][1].append(cpu)
    return times


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
    # an installed package has its bytecode compiled (pip does it): a process that compiles
    # edgeinfer's sources at each start would time the compiler (0.2 s here); the untimed
    # first round writes the .pyc files
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    run = [sys.executable, "-m", "edgeinfer", "run", "--model", args.model, "--image", args.image,
           "--top-k", "1", "--backend"]

    def empty_cache():
        shutil.rmtree(cache, ignore_errors=True)

    cases = [("import edgeinfer", [sys.executable, "-c", "import edgeinfer; print('ok')"], None,
              {}),
             ("edgeinfer run --backend onnxruntime", run + ["onnxruntime"], None, {}),
             ("edgeinfer run --backend native (cold plan cache)", run + ["native"], empty_cache,
              {}),
             ("edgeinfer run --backend native (warm plan cache)", run + ["native"], None, {}),
             ("cv2.dnn 4-line script (reference)", [sys.executable, "-c", CV2_DNN, args.model,
                                                    args.image], None, {})]
    times = interleaved(cases, args.runs, env)
    reference = statistics.median(times["cv2.dnn 4-line script (reference)"][0])
    print(f"| {os.path.basename(args.model)}, median of {args.runs} interleaved | start -> first "
          "prediction | min .. max | x cv2.dnn | CPU time |\n|---|---|---|---|---|")
    for name, (walls, cpus) in times.items():
        median = statistics.median(walls)
        print(f"| {name} | {median:.2f} s | {min(walls):.2f} .. {max(walls):.2f} | "
              f"{median / reference:.1f}x | {statistics.median(cpus):.2f} s |")
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
