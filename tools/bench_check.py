"""Fails when a kernel's speed-up over its numpy reference, measured in the
same benchmark run, falls below its committed floor (benchmarks/floors.json),
or when the native backend's speed relative to onnxruntime on a whole model
(onnxruntime's median time / native's, the two taking turns run by run in
benchmarks/bench_backends.py) falls below its floor under
"native_speed_vs_onnxruntime". Ratios, not seconds, so a slower or busier
machine does not trip it; each suite's fastest round is compared, the one a
busy machine slows least, so a smoke run of a few rounds (make bench-smoke)
reads the same as a long one.

More runs of the same suites (RUN.json AGAIN.json ...) judge each case (a
benchmark group: one kernel at one shape) by its best run: every ratio is
still one run's own, and a case that has lost its speed-up misses its floor
in every run, while a minute in which the shared host slowed one suite does
not fail the gate (make bench-smoke measures once more only when the first
run fails). The whole-model floors read the first run.

usage: python tools/bench_check.py RUN.json [AGAIN.json ...] [--floors benchmarks/floors.json]"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import load_groups, load_groups_with_extra, ratios  # noqa: E402

BACKEND_FLOORS = "native_speed_vs_onnxruntime"

DEFAULT_FLOORS = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "floors.json")


def check_backends(groups_with_extra, floors):
    """(lines, failures) for the whole-model floors: {group: least
    onnxruntime time / native time}."""
    lines, failures = [], 0
    measured = any("native_vs_onnxruntime" in info for suites in groups_with_extra.values()
                   for _, _, info in suites.values())
    if not measured:
        # a kernels-only run (make bench-smoke) has no whole models to judge
        return [f"skip {len(floors)} whole-model floor(s): no benchmarks/bench_backends.py "
                "bench_interleaved run in this file"], 0
    for group, floor in sorted(floors.items()):
        extra = [info for _, _, info in groups_with_extra.get(group, {}).values()
                 if "native_vs_onnxruntime" in info]
        if not extra:
            lines.append(f"FAIL {group}: no interleaved native/onnxruntime measurement in this run")
            failures += 1
            continue
        speed = 1.0 / extra[0]["native_vs_onnxruntime"]
        ok = speed >= floor
        failures += not ok
        lines.append(f"{'ok  ' if ok else 'FAIL'} {group:48} {speed:8.2f}x onnxruntime's speed "
                     f"(native {extra[0]['native_ms']} ms, onnxruntime "
                     f"{extra[0]['onnxruntime_ms']} ms; floor {floor}x)")
    return lines, failures


def reference_speedup(suites):
    """Ours over the numpy reference in one run's group, or None."""
    measured = ratios(suites)
    if measured is None:
        return None
    speedups = [r for name, r in measured[1].items() if suites[name][0] == "reference"]
    return speedups[0] if speedups else None


def check(runs, floors):
    """(lines to print, number of failures) for a list of runs' groups (one
    run or more), each group judged by its best run."""
    floors = {kernel: floor for kernel, floor in floors.items() if kernel != BACKEND_FLOORS}
    lines, failures, checked = [], 0, set()
    for group in sorted(set().union(*runs)):
        kernel = group.split()[0]
        if kernel not in floors:
            continue
        speedups = [(speedup, number) for number, groups in enumerate(runs, 1)
                    if group in groups
                    for speedup in [reference_speedup(groups[group])] if speedup is not None]
        if not speedups:
            continue
        checked.add(kernel)
        best, number = max(speedups)
        ok = best >= floors[kernel]
        failures += not ok
        which = f", best of {len(speedups)} runs: run {number}" if len(speedups) > 1 else ""
        lines.append(f"{'ok  ' if ok else 'FAIL'} {group:48} {best:8.1f}x numpy reference "
                     f"(floor {floors[kernel]}x{which})")
    for kernel in sorted(set(floors) - checked):
        lines.append(f"FAIL {kernel}: no benchmark group with a reference in "
                     f"{'this run' if len(runs) == 1 else 'any run'}")
        failures += 1
    return lines, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="run",
                        help="pytest-benchmark --benchmark-json output; more: the same suites "
                             "measured again")
    parser.add_argument("--floors", default=DEFAULT_FLOORS)
    args = parser.parse_args(argv)
    with open(args.floors) as f:
        floors = json.load(f)
    lines, failures = check([load_groups(run)[0] for run in args.runs], floors)
    if BACKEND_FLOORS in floors:
        backend_lines, backend_failures = check_backends(load_groups_with_extra(args.runs[0])[0],
                                                         floors[BACKEND_FLOORS])
        lines += backend_lines
        failures += backend_failures
    print("\n".join(lines))
    if failures:
        print(f"{failures} case(s) below their floor", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
