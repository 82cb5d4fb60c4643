"""Turns a pytest-benchmark JSON run into a Markdown table of same-run ratios:
for each case, our time and every other suite's time as a multiple of ours
(> 1: we are faster). Ratios travel between machines; seconds do not.

usage: python tools/bench_table.py RUN.json [--stat min|median]"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import load_groups, ratios  # noqa: E402


def table(groups, machine):
    cpu = machine.get("cpu", {}).get("brand_raw", "unknown CPU")
    lines = [f"Machine: {cpu}, {machine.get('cpu', {}).get('count', '?')} cores, "
             f"Python {machine.get('python_version', '?')}", "",
             "| case | edgeinfer | other suites (time / edgeinfer time) |", "|---|---|---|"]
    for group in sorted(groups):
        measured = ratios(groups[group])
        if measured is None:
            continue
        ours, others = measured
        cells = ", ".join(f"{name}: {ratio:.2f}x" for name, ratio in sorted(others.items()))
        lines.append(f"| {group} | {ours * 1e6:,.1f} µs | {cells} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--stat", default="min", choices=["min", "median", "mean"])
    args = parser.parse_args(argv)
    groups, machine = load_groups(args.run, args.stat)
    print(table(groups, machine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
