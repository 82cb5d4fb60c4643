"""Fails when a kernel's speed-up over its numpy reference, measured in the
same benchmark run, falls below its committed floor (benchmarks/floors.json).
Ratios, not seconds, so a slower or busier machine does not trip it; each
suite's fastest round is compared, the one a busy machine slows least, so a
smoke run of a few rounds (make bench-smoke) reads the same as a long one.

usage: python tools/bench_check.py RUN.json [--floors benchmarks/floors.json]"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import load_groups, ratios  # noqa: E402

DEFAULT_FLOORS = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "floors.json")


def check(groups, floors):
    """(lines to print, number of failures)."""
    lines, failures, checked = [], 0, set()
    for group in sorted(groups):
        kernel = group.split()[0]
        if kernel not in floors:
            continue
        measured = ratios(groups[group])
        if measured is None:
            continue
        speedups = [r for name, r in measured[1].items() if groups[group][name][0] == "reference"]
        if not speedups:
            continue
        checked.add(kernel)
        ok = speedups[0] >= floors[kernel]
        failures += not ok
        lines.append(f"{'ok  ' if ok else 'FAIL'} {group:48} {speedups[0]:8.1f}x numpy reference "
                     f"(floor {floors[kernel]}x)")
    for kernel in sorted(set(floors) - checked):
        lines.append(f"FAIL {kernel}: no benchmark group with a reference in this run")
        failures += 1
    return lines, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="pytest-benchmark --benchmark-json output")
    parser.add_argument("--floors", default=DEFAULT_FLOORS)
    args = parser.parse_args(argv)
    with open(args.floors) as f:
        floors = json.load(f)
    groups, _ = load_groups(args.run)
    lines, failures = check(groups, floors)
    print("\n".join(lines))
    if failures:
        print(f"{failures} kernel case(s) below their floor", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
