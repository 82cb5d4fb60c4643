import os

# before any test imports TensorFlow: no C++ start-up chatter, no oneDNN reordering
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=600, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def cli(capsys):
    """Runs `edgeinfer ARGS...` in-process: (exit code, stdout, stderr)."""
    from edgeinfer.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


def assert_one_line_error(code, err, *words):
    """A foreseeable failure: exit 2 and one `edgeinfer ...:` line naming the problem."""
    lines = [line for line in err.splitlines() if line.startswith("edgeinfer ")]
    assert code == 2
    assert "Traceback" not in err
    assert lines and all(w.lower() in lines[-1].lower() for w in words), err
