"""Markdown table of one pytest-benchmark JSON run: per group, the fastest
time of each contender, its GFLOP/s, and ours as a speed-up over the others.

    python tools/benchmark_table.py .benchmarks/conv2d.json
"""
import json
import sys
from collections import defaultdict

OURS = ("bench_edgeinfer", "bench_filter2d_edgeinfer")


def contender(name):
    base = name.split("[")[0]
    return "ours" if base in OURS else base.replace("bench_", "").replace("filter2d_", "")


def main(path):
    with open(path) as f:
        run = json.load(f)
    groups = defaultdict(dict)
    for bench in run["benchmarks"]:
        groups[bench["group"]][contender(bench["name"])] = bench
    others = sorted({c for g in groups.values() for c in g if c != "ours"})
    header = ["case", "ours ms", "ours GFLOP/s"] + [f"{o} ms" for o in others] + \
             [f"ours vs {o}" for o in others]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for group, entries in groups.items():
        ours = entries["ours"]["stats"]["min"]
        row = [group, f"{ours * 1e3:.3f}",
               f"{entries['ours']['extra_info'].get('gflops_per_s', float('nan')):.1f}"]
        row += [f"{entries[o]['stats']['min'] * 1e3:.3f}" if o in entries else "" for o in others]
        row += [f"{entries[o]['stats']['min'] / ours:.2f}x" if o in entries else "" for o in others]
        print("| " + " | ".join(row) + " |")
    machine = run.get("machine_info", {})
    print(f"\n{machine.get('cpu', {}).get('brand_raw', '')}, "
          f"python {machine.get('python_version', '')}, {run.get('datetime', '')}")


if __name__ == "__main__":
    main(sys.argv[1])
