"""Turns a pytest-benchmark JSON run into a Markdown table of same-run ratios:
for each case, our time (and GFLOP/s where the suite reports it) and every
other suite's time as a multiple of ours (> 1: we are faster). Ratios travel
between machines; seconds do not. An `edgeinfer bench --json` report becomes
a table of its rows (backend, threads, batch, streams), each as a multiple of
the fastest.

usage: python tools/bench_table.py RUN.json [--stat min|median]"""
import argparse
import json
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


def bench_report_table(report):
    """A Markdown table of an `edgeinfer bench --json` report's rows."""
    machine = report.get("machine", {})
    lines = [f"Model: {report.get('model', '?')}. Machine: {machine.get('cpu', 'unknown CPU')}, "
             f"{machine.get('cores', '?')} cores", "",
             "| backend | threads | batch | streams | p50 ms | p90 ms | items/s | × fastest |",
             "|---|---|---|---|---|---|---|---|"]
    for row in report["rows"]:
        total = row["total_ms"]
        threads = row.get("threads") if row.get("threads") is not None else "default"
        lines.append(f"| {row['backend']} | {threads} | {row.get('batch', 1)} | "
                     f"{row.get('streams', 1)} | {total['p50']:.2f} | {total['p90']:.2f} | "
                     f"{row['throughput_per_s']:,.1f} | {row.get('ratio_to_fastest', 1.0):.2f} |")
    for backend, reason in report.get("not_measured", {}).items():
        lines.append(f"\n{backend}: not measured ({reason})")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--stat", default="min", choices=["min", "median", "mean"])
    args = parser.parse_args(argv)
    try:
        with open(args.run) as f:
            run = json.load(f)
    except (OSError, ValueError) as error:
        print(f"bench_table: cannot read {args.run}: {error}", file=sys.stderr)
        return 2
    if isinstance(run, dict) and "rows" in run:  # `edgeinfer bench --json`
        print(bench_report_table(run))
        return 0
    if not isinstance(run, dict) or "benchmarks" not in run:
        print(f"bench_table: {args.run} is neither a pytest-benchmark run (--benchmark-json) nor "
              "an `edgeinfer bench --json` report", file=sys.stderr)
        return 2
    groups, machine = load_groups_with_extra(args.run, args.stat)
    print(table(groups, machine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
