"""Reads a pytest-benchmark JSON run into groups of suites with roles.

A group holds one case (a kernel on one shape); within it each suite is
"ours" (bench_edgeinfer...), "reference" (bench_..._numpy_reference) or an
outside "anchor" (OpenCV, onnxruntime, ...), told apart by name."""
import json
import re
from collections import defaultdict


def suite_name(full_name):
    """bench_filter2d_opencv[480x640] -> filter2d_opencv"""
    return re.sub(r"^bench_", "", full_name.split("[")[0])


def role_of(name):
    if "numpy_reference" in name or name == "reference":
        return "reference"
    if name.endswith("edgeinfer") or name.startswith("edgeinfer"):
        return "ours"
    return "anchor"


def load_groups(path, statistic="min"):
    """{group: {suite name: (role, seconds)}} from a --benchmark-json file, and
    the run's machine info."""
    groups, _ = load_groups_with_extra(path, statistic)
    return {g: {n: (role, seconds) for n, (role, seconds, _) in suites.items()}
            for g, suites in groups.items()}, _


def load_groups_with_extra(path, statistic="min"):
    """As load_groups, with each suite's extra_info (e.g. gflops_per_s) third."""
    with open(path) as f:
        run = json.load(f)
    groups = defaultdict(dict)
    for bench in run["benchmarks"]:
        name = suite_name(bench["name"])
        groups[bench["group"] or name][name] = (role_of(name), bench["stats"][statistic],
                                                bench.get("extra_info", {}))
    return dict(groups), run.get("machine_info", {})


def ratios(suites):
    """(ours seconds, {suite: suite seconds / ours seconds}) for one group, or None
    when the group has no suite of ours."""
    ours = [seconds for role, seconds in suites.values() if role == "ours"]
    if not ours:
        return None
    return ours[0], {name: seconds / ours[0] for name, (role, seconds) in suites.items()
                     if role != "ours"}
