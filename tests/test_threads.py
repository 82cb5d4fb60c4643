"""How the core shares a step between threads: the work gate that keeps
small steps on the calling thread (csrc/platform/threads.c), always within
the thread count the user set, and the OpenMP wait policy edgeinfer sets
before the core loads (edgeinfer/core/loader.py)."""
import os
import re
import subprocess
import sys

import pytest

from edgeinfer.core.loader import core

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def two_threads():
    before = core.get_num_threads()
    core.set_num_threads(2)
    yield
    core.set_num_threads(before)
    core.set_work_per_thread(None)


def gate():
    current = core.set_work_per_thread(None)
    core.set_work_per_thread(current)
    return current


def test_small_steps_run_on_one_thread_and_large_ones_on_two(two_threads):
    work = gate()
    assert core.threads_for(64, work / 64) == 1          # one thread's worth in all
    assert core.threads_for(64, 2 * work / 64) == 2
    assert core.threads_for(1, 100 * work) == 1          # one item cannot be shared
    assert core.threads_for(1000, 100 * work) == 2       # never past the user's count


def test_gate_off_splits_every_step_and_none_restores_it(two_threads):
    default = gate()
    assert core.set_work_per_thread(0) == default
    assert core.threads_for(2, 1.0) == 2
    assert core.set_work_per_thread(None) == 0
    assert gate() == default and core.threads_for(2, 1.0) == 1


def test_one_thread_set_by_the_user_is_one_thread_however_large_the_step():
    before = core.get_num_threads()
    core.set_num_threads(1)
    core.set_work_per_thread(0)
    try:
        assert core.threads_for(1000, 1e9) == 1
    finally:
        core.set_num_threads(before)
        core.set_work_per_thread(None)


def _child(code, **env):
    """(stdout, stderr) of `code` in a fresh interpreter with `env` as its only
    OpenMP wait settings."""
    environ = {k: v for k, v in os.environ.items()
               if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")}
    environ.update(env, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip(), done.stderr


def _policy_in_force(stderr):
    """The wait policy OpenMP says it took (OMP_DISPLAY_ENV), as it loaded."""
    found = re.search(r"OMP_WAIT_POLICY\s*=\s*'?(\w+)", stderr)
    assert found, stderr
    return found.group(1).upper()


@pytest.mark.skipif(not core.openmp_enabled(), reason="built without OpenMP")
def test_loading_the_core_makes_openmp_wait_passively_and_leaves_no_setting_behind():
    """The policy set for OpenMP to read as it loads is taken back after, so a
    subprocess the user starts does not inherit it; a policy of the user's own
    is kept, and a spin count or block time of theirs leaves the policy theirs."""
    load = "import os; from edgeinfer.core.loader import core; "
    show = load + "print(os.environ.get('OMP_WAIT_POLICY'))"
    out, err = _child(show, OMP_DISPLAY_ENV="TRUE")
    assert out == "None" and _policy_in_force(err) == "PASSIVE"
    out, err = _child(show, OMP_DISPLAY_ENV="TRUE", OMP_WAIT_POLICY="active")
    assert out == "active" and _policy_in_force(err) == "ACTIVE"
    for setting in ("GOMP_SPINCOUNT", "KMP_BLOCKTIME"):
        assert _child(show, **{setting: "10"})[0] == "None"


def test_worker_threads_sleep_between_frames():
    """After a step split across two threads, the worker waits without
    spinning: over a 100 ms pause after the step the process uses (almost) no
    CPU (measured: 0.1 ms), where libgomp's default spin burns 2-9 ms of it on
    the second core. The least of three pauses, each after a step."""
    code = """
import time, resource, numpy as np
import edgeinfer
from edgeinfer.core.loader import core
core.set_num_threads(2)
x = np.ones((1, 64, 56, 56), np.float32); w = np.ones((64, 64, 3, 3), np.float32)
usage = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
pauses = []
for _ in range(3):
    edgeinfer.conv2d(x, w, None, padding=1)
    before = usage(); time.sleep(0.1); pauses.append(1000 * (usage() - before))
print(min(pauses) if core.openmp_enabled() else 0.0)
"""
    cpu_ms = float(_child(code)[0])
    assert cpu_ms < 1, f"{cpu_ms:.1f} ms of CPU while the process slept 100 ms"
