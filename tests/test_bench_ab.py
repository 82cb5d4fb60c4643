"""tools/bench_ab.py: two checkouts' kernels timed in interleaved workers. Run
on this checkout against itself: every case timed in both, a table row each."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import bench_ab  # noqa: E402


def test_checkout_against_itself_times_every_case_in_both():
    keys, best = bench_ab.drive({"before": ROOT, "after": ROOT}, rounds=1)
    cases = {key.split("|")[0] for key in keys}
    assert {"preprocess 640x480", "filter2d gaussian3 480x640", "max_pool 3x3/2"} <= cases
    for key in keys:
        assert 0 < best["before", key] < 5 and 0 < best["after", key] < 5
    rows = bench_ab.table(keys, best).splitlines()[2:]
    assert len(rows) == len(cases)
    # the same code on the same machine: nowhere near a 4x difference
    for row in rows:
        assert 0.25 < float(row.split("|")[4]) < 4


def test_table_names_ratios_to_the_references_timed_beside_ours():
    best = {("before", "k|ours"): 2e-6, ("after", "k|ours"): 1e-6,
            ("before", "k|numpy"): 2e-4, ("after", "k|numpy"): 2e-4}
    row = bench_ab.table(["k|ours", "k|numpy"], best).splitlines()[2]
    assert row == "| k | 2 | 1 | 0.50 | numpy 100.0× | numpy 200.0× |"
