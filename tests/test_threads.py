"""How the core shares a step between threads: the work gate that keeps
small steps on the calling thread (csrc/platform/threads.c), always within
the thread count the user set; the pool's workers (csrc/platform/thread_pool.c,
checked task by task in tests/test_thread_pool_builds.py) started only for
the threads asked for, asleep between frames, and models run from two Python
threads at once giving the results they give one at a time."""
import os
import subprocess
import threading
import sys

import numpy as np
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
    """stdout of `code` in a fresh interpreter (a fresh pool) with `env` added."""
    environ = dict(os.environ, PYTHONPATH=ROOT, **env)
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


SPLIT_STEPS = """
import numpy as np
import edgeinfer
from edgeinfer.core.loader import core
core.set_work_per_thread(0)   # every step split, however small
x = np.ones((1, 16, 20, 20), np.float32); w = np.ones((16, 16, 3, 3), np.float32)
"""


@pytest.mark.skipif(not core.threads_enabled(), reason="built without threads")
def test_the_pool_starts_workers_for_the_threads_asked_for_and_no_more():
    """One thread set: no worker ever starts; two: one worker beside the
    caller; EDGEINFER_NUM_THREADS=3: two."""
    code = SPLIT_STEPS + """
counts = []
for n in (1, 2):
    core.set_num_threads(n)
    edgeinfer.conv2d(x, w, None, padding=1)
    counts.append(core.pool_workers())
core.set_num_threads(0)   # back to the default, EDGEINFER_NUM_THREADS
edgeinfer.conv2d(x, w, None, padding=1)
counts.append(core.pool_workers())
print(counts)
"""
    assert _child(code, EDGEINFER_NUM_THREADS="3") == "[0, 1, 2]"


@pytest.mark.skipif(not core.threads_enabled(), reason="built without threads")
def test_one_row_classifier_streams_its_weights_on_two_threads():
    """A 1280 -> 1000 classifier of one row is 1.3 M multiply-adds, near the
    default gate, but 5 MB of weights each read once: it stayed on one
    thread while two cores stream it ~1.7x as fast. At the default gate it
    now starts a worker; a 16 -> 16 one of one row still runs alone."""
    code = """
import numpy as np
from edgeinfer.core.loader import core
from edgeinfer.kernels import dense
core.set_num_threads(2)
dense(np.ones((1, 16), np.float32), np.ones((16, 16), np.float32))
counts = [core.pool_workers()]
dense(np.ones((1, 1280), np.float32), np.ones((1280, 1000), np.float32))
counts.append(core.pool_workers())
print(counts)
"""
    assert _child(code) == "[0, 1]"


@pytest.mark.skipif(not core.threads_enabled(), reason="built without threads")
def test_worker_threads_sleep_between_frames():
    """After a step split across two threads, the worker spins a few tens of
    microseconds for the next step and then sleeps: over a 100 ms pause after
    the step the process uses (almost) no CPU (measured: 0.1 ms), where
    libgomp's default spin burned 2-9 ms of it on the second core. The least
    of three pauses, each after a step.

    Each pause is measured from 5 ms after its step (a hundred times the
    spin): with tick accounting (HZ=250 here) the worker's CPU time for the
    step since its last tick reaches getrusage only when the worker next
    sleeps, so a pause measured from the step's return counted up to 4 ms of
    the step itself (21 of 60 pauses at 1 ms or more; 0 of 60 from 5 ms on)."""
    code = SPLIT_STEPS + """
import time, resource
core.set_num_threads(2)
x = np.ones((1, 64, 56, 56), np.float32); w = np.ones((64, 64, 3, 3), np.float32)
usage = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
pauses = []
for _ in range(3):
    edgeinfer.conv2d(x, w, None, padding=1)
    time.sleep(0.005)
    before = usage(); time.sleep(0.1); pauses.append(1000 * (usage() - before))
print(core.pool_workers(), min(pauses))
"""
    workers, cpu_ms = _child(code).split()
    cpu_ms = float(cpu_ms)
    assert workers == "1", "no worker started: the pause measured nothing"
    assert cpu_ms < 1, f"{cpu_ms:.1f} ms of CPU while the process slept 100 ms"


def test_two_models_run_from_two_python_threads_at_once_give_their_own_results(two_threads):
    """Two models, each run over and over from its own Python thread while
    the other runs (the kernels release the GIL): one thread's steps hold the
    pool, the other's run on their caller, and every result is the one each
    model gives alone."""
    from edgeinfer.native import NativeBackend
    from tools.small_cnns import MODELS

    core.set_work_per_thread(0)
    names = sorted(MODELS)[:2]
    models = [MODELS[name]() for name in names]
    backends = [NativeBackend(model) for model in models]
    feeds = []
    for seed, model in enumerate(models):
        graph_input = model.graph.input[0]
        shape = [d.dim_value or 1 for d in graph_input.type.tensor_type.shape.dim]
        feeds.append({graph_input.name: np.random.default_rng(seed).standard_normal(shape)
                      .astype(np.float32)})
    alone = [backend.run(feed)[0].copy() for backend, feed in zip(backends, feeds)]
    wrong = []

    def run(i):
        for _ in range(30):
            got = backends[i].run(feeds[i])[0]
            if not np.array_equal(got, alone[i]):
                wrong.append(names[i])

    workers = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert wrong == []


@pytest.mark.parametrize("env, threads", [
    ({"OMP_NUM_THREADS": "3,2"}, 3),                                # the outer level
    ({"OMP_NUM_THREADS": "1"}, 1),
    ({"OMP_NUM_THREADS": "3", "EDGEINFER_NUM_THREADS": "2"}, 2),   # ours first
    ({"OMP_NUM_THREADS": "abc"}, None),                             # the cores, as unset
])
def test_thread_count_comes_from_our_variable_then_openmps_then_the_cores(env, threads):
    """Without OpenMP the core still honours OMP_NUM_THREADS, the variable
    users and containers already set, after EDGEINFER_NUM_THREADS."""
    if not core.threads_enabled():
        pytest.skip("built without threads")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OMP_NUM_THREADS", "EDGEINFER_NUM_THREADS")}
    code = "from edgeinfer.core.loader import core; print(core.get_num_threads())"
    environ = dict(clean, PYTHONPATH=ROOT, **env)
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                         text=True, check=True).stdout.strip()
    cores = len(os.sched_getaffinity(0))
    assert int(out) == (threads if threads is not None else min(cores, 64))


@pytest.mark.skipif(not core.threads_enabled(), reason="built without threads")
def test_a_forked_child_starts_its_own_worker_and_gives_the_parents_results():
    """A fork copies only the calling thread: the child must not wait for the
    parent's workers (it would hang), but start its own."""
    code = SPLIT_STEPS + """
import os
core.set_num_threads(2)
want = edgeinfer.conv2d(x, w, None, padding=1)
pid = os.fork()
if pid == 0:
    got = edgeinfer.conv2d(x, w, None, padding=1)
    os._exit(0 if core.pool_workers() == 1 and np.array_equal(got, want) else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""
    assert _child(code) == "0"
