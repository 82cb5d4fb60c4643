"""Turns a pytest-benchmark JSON run into a Markdown table of same-run ratios:
for each case, our time (and GFLOP/s where the suite reports it) and every
other suite's time as a multiple of ours (> 1: we are faster). Ratios travel
between machines; seconds do not.

usage: python tools/bench_table.py RUN.json [--stat min|median]"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import load_groups_with_extra, ratios  # noqa: E402


def table(groups, machine):
    """groups as load_groups_with_extra gives them (extra_info optional)."""
    cpu = machine.get("cpu", {}).get("brand_raw", "unknown CPU")
    lines = [f"Machine: {cpu}, {machine.get('cpu', {}).get('count', '?')} cores, "
             f"Python {machine.get('python_version', '?')}", "",
             "| case | edgeinfer | other suites (time / edgeinfer time) |", "|---|---|---|"]
    for group in sorted(groups):
        suites = {name: entry[:2] for name, entry in groups[group].items()}
        measured = ratios(suites)
        if measured is None:
            continue
        ours, others = measured
        extra = next(entry[2] for entry in groups[group].values()
                     if entry[0] == "ours" and len(entry) > 2) if any(
            len(entry) > 2 for entry in groups[group].values()) else {}
        rate = f" ({extra['gflops_per_s']:.1f} GFLOP/s)" if "gflops_per_s" in extra else ""
        cells = ", ".join(f"{name}: {ratio:.2f}x" for name, ratio in sorted(others.items()))
        lines.append(f"| {group} | {ours * 1e6:,.1f} µs{rate} | {cells} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--stat", default="min", choices=["min", "median", "mean"])
    args = parser.parse_args(argv)
    groups, machine = load_groups_with_extra(args.run, args.stat)
    print(table(groups, machine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
