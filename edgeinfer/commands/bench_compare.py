"""`edgeinfer bench --compare A.json B.json`: two `bench --json` reports side by
side, row by row (backend, threads, batch, streams), as ratios B/A; with
--fail-above, exit status 1 when a row of B is slower than A's by more."""
import argparse
import json
import math
import sys

from ..errors import UserError


def percentage(text):
    """argparse type for --fail-above: '10%' or '10' (percent) -> 0.10."""
    try:
        value = float(str(text).strip().rstrip("%"))
    except ValueError:
        value = -1
    if not math.isfinite(value) or value < 0:  # 'nan' would never fail, 'inf' never either
        raise argparse.ArgumentTypeError(f"takes a percentage such as 10%, got {text!r}")
    return value / 100


def add_compare_arguments(parser):
    parser.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), default=None,
                        help="compare two `bench --json` reports instead of measuring: B's "
                             "figures as multiples of A's, per backend, threads, batch")
    parser.add_argument("--fail-above", type=percentage, default=None, metavar="PCT",
                        help="with --compare: exit 1 when any row's p50 in B is more than PCT "
                             "slower than in A (e.g. 10%%)")


def read_report(path):
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise UserError(f"{path} is not JSON ({error}): give files written by "
                        "`edgeinfer bench --json`") from None
    if not isinstance(report, dict) or not isinstance(report.get("rows"), list):
        raise UserError(f"{path} has no bench rows: give files written by "
                        "`edgeinfer bench --json`")
    for number, row in enumerate(report["rows"], 1):
        if not _measured_row(row):
            raise UserError(f"{path}: row {number} is not a bench measurement (a backend, and "
                            "positive total_ms p50/mean and throughput_per_s): give files "
                            "written by `edgeinfer bench --json`")
    return report


def _measured_row(row):
    """A row ratios can be taken of: every figure compare divides by is a positive number."""
    def positive(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value) and value > 0

    times = row.get("total_ms") if isinstance(row, dict) else None
    return isinstance(row, dict) and isinstance(row.get("backend"), str) and \
        isinstance(times, dict) and positive(times.get("p50")) and \
        positive(times.get("mean")) and positive(row.get("throughput_per_s"))


def row_key(row):
    # the threads asked for: native runs a small model on fewer (the same for both reports)
    return (row["backend"], row.get("threads_asked", row.get("threads")), row.get("batch", 1),
            row.get("streams", 1))


def describe(key):
    backend, threads, batch, streams = key
    text = f"{backend}, {threads if threads is not None else 'default'} threads, batch {batch}"
    return text + (f", {streams} streams" if streams != 1 else "")


def ratios(a_rows, b_rows):
    """[(key, row A, row B, {p50, mean, throughput: B/A})] for the rows both
    have, in A's order; the keys only one of them has."""
    a_by_key = {row_key(row): row for row in a_rows}
    b_by_key = {row_key(row): row for row in b_rows}
    pairs = []
    for key, a in a_by_key.items():
        b = b_by_key.get(key)
        if b is not None:
            pairs.append((key, a, b, {
                "p50": b["total_ms"]["p50"] / a["total_ms"]["p50"],
                "mean": b["total_ms"]["mean"] / a["total_ms"]["mean"],
                "throughput": b["throughput_per_s"] / a["throughput_per_s"]}))
    only = [key for key in a_by_key if key not in b_by_key] + \
        [key for key in b_by_key if key not in a_by_key]
    return pairs, only


def format_table(pairs):
    head = (f"{'backend':12} {'thr':>4} {'batch':>5} {'strm':>4} {'A p50':>8} {'B p50':>8} "
            f"{'p50 B/A':>8} {'mean B/A':>8} {'items/s B/A':>11}")
    lines = [head, "-" * len(head)]
    for (backend, threads, batch, streams), a, b, ratio in pairs:
        lines.append(f"{backend:12} {threads if threads is not None else 'def':>4} {batch:5d} "
                     f"{streams:4d} {a['total_ms']['p50']:8.2f} {b['total_ms']['p50']:8.2f} "
                     f"{ratio['p50']:7.2f}x {ratio['mean']:7.2f}x {ratio['throughput']:10.2f}x")
    return "\n".join(lines)


def compare(path_a, path_b, fail_above=None):
    a, b = read_report(path_a), read_report(path_b)
    pairs, only = ratios(a["rows"], b["rows"])
    if not pairs:
        raise UserError(f"{path_a} and {path_b} have no row in common (backend, threads, batch, "
                        "streams): measure both with the same options")
    print(f"A: {path_a} ({a.get('model', '?')}, {a.get('machine', {}).get('cpu', '?')})")
    print(f"B: {path_b} ({b.get('model', '?')}, {b.get('machine', {}).get('cpu', '?')})")
    print("times in ms; B/A above 1.00x: B is slower (items/s: B does fewer)")
    print(format_table(pairs))
    for key, row_a, row_b, _ in pairs:
        used = row_a.get("threads"), row_b.get("threads")
        if used[0] != used[1]:   # rows pair by the threads asked, not by those used
            print(f"{describe(key)} (as asked): A ran on {used[0]}, B on {used[1]} "
                  "(native shares a model's threads by its work)")
    for key in only:
        print(f"{describe(key)}: in one report only, not compared")
    if fail_above is None:
        return 0
    slower = [(key, ratio["p50"]) for key, _, _, ratio in pairs if ratio["p50"] > 1 + fail_above]
    if slower:
        worst = ", ".join(f"{describe(key)} {ratio:.2f}x" for key, ratio in slower)
        print(f"edgeinfer bench: {len(slower)} of {len(pairs)} rows slower than {path_a} by more "
              f"than {fail_above * 100:g}% (p50): {worst}", file=sys.stderr)
        return 1
    print(f"no row slower than {path_a} by more than {fail_above * 100:g}% (p50)")
    return 0
