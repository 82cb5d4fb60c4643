"""Broadcasting arithmetic as classifiers use it (a residual Add, a
squeeze-excitation per-channel Mul), one thread: the C kernel with its
broadcast resolved once against numpy's ufunc writing into the same buffer."""
import numpy as np
import pytest

from edgeinfer.kernels.elementwise import binary_call

CASES = {"residual add": ("add", (1, 40, 28, 28), (1, 40, 28, 28)),
         "channel scale": ("mul", (1, 240, 14, 14), (1, 240, 1, 1))}
UFUNCS = {"add": np.add, "mul": np.multiply}


@pytest.mark.parametrize("case", CASES)
def bench_binary_c(benchmark, rng, case):
    op, a_shape, b_shape = CASES[case]
    a, b = rng.standard_normal(a_shape).astype(np.float32), \
        rng.standard_normal(b_shape).astype(np.float32)
    out = np.empty(a_shape, np.float32)
    benchmark.group = f"binary {case}"
    benchmark(binary_call(op, a, b, out))
    np.testing.assert_allclose(out, UFUNCS[op](a, b), rtol=1e-6)


@pytest.mark.parametrize("case", CASES)
def bench_binary_numpy(benchmark, rng, case):
    op, a_shape, b_shape = CASES[case]
    a, b = rng.standard_normal(a_shape).astype(np.float32), \
        rng.standard_normal(b_shape).astype(np.float32)
    out = np.empty(a_shape, np.float32)
    benchmark.group = f"binary {case}"
    benchmark(UFUNCS[op], a, b, out=out)
