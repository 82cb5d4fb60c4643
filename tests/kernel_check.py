"""One frame for every kernel test: a kernel against its numpy reference,
under every SIMD level this CPU has, one and two threads (at two, every
step split across both however small: the work gate off), and each forced
path of the core.

A kernel test module describes its kernel once (`KernelCheck`: the kernel,
its reference, how close they must be, the forced paths it has) and then
  - `check.property(strategy)` runs it over drawn `Case`s, and
  - `check.regression_test(REGRESSIONS)` over its table of named cases, each
    a problem the kernel once got wrong (or an edge worth pinning down).
Each case is computed once by the reference and then by the kernel under
every configuration; two threads must give exactly what one thread gives.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, settings

import edgeinfer
from simd_levels import available_levels

LEVELS = available_levels()
THREADS = (1, 2)


@dataclass
class Case:
    """One call: kernel(*args, **kwargs) and reference(*args, **kwargs).
    `then(ours, expected)`, if given, asserts more of this case's result
    (exact values, a shape) under every configuration."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    then: Callable | None = None


@contextlib.contextmanager
def configured(level, threads, force_path):
    before = edgeinfer.get_num_threads()
    edgeinfer._core.simd_force(level)
    edgeinfer.set_num_threads(threads)
    # the drawn cases are far below the work a thread must have to be used
    edgeinfer._core.set_work_per_thread(0 if threads > 1 else None)
    if force_path is not None:
        force_path()
    try:
        yield
    finally:
        edgeinfer._core.simd_force(None)
        edgeinfer.set_num_threads(before)
        edgeinfer._core.set_work_per_thread(None)


@dataclass
class KernelCheck:
    kernel: Callable
    reference: Callable
    compare: Callable                   # compare(ours, expected, case) asserts they match
    paths: dict = field(default_factory=lambda: {"by shape": None})  # name -> forcing call
    reset_paths: Callable | None = None  # back to the paths chosen by shape

    def configurations(self):
        return [(level, threads, path) for level in LEVELS for path in self.paths
                for threads in THREADS]

    def check(self, case):
        expected = self.reference(*case.args, **case.kwargs)
        by_one_thread = {}
        try:
            for level, threads, path in self.configurations():
                with configured(level, threads, self.paths[path]):
                    ours = np.array(self.kernel(*case.args, **case.kwargs), copy=True)
                where = f"level {level}, {threads} thread(s), path {path}"
                try:
                    self.compare(ours, expected, case)
                    if case.then is not None:
                        case.then(ours, expected)
                    if threads == THREADS[0]:
                        by_one_thread[level, path] = ours
                    else:
                        np.testing.assert_array_equal(ours, by_one_thread[level, path],
                                                      err_msg="threads changed the result")
                except AssertionError as error:
                    error.add_note(f"under {where}")
                    raise
        finally:
            if self.reset_paths is not None:
                self.reset_paths()

    def property(self, strategy, max_examples=None):
        """A test body running `check` over cases drawn from `strategy`."""
        @given(strategy)
        def run(case):
            self.check(case)
        if max_examples is not None:
            run = settings(max_examples=max_examples)(run)
        return run

    def regression_test(self, table):
        """A pytest test running `check` on each named case of `table`."""
        @pytest.mark.parametrize("name", sorted(table))
        def test_regressions(name):
            self.check(table[name])
        return test_regressions
