"""What every converter shares: the ONNX opset it writes, and how it tells the
user what it decided and what it is doing."""
import contextlib
import contextvars
import sys

from ..progress import progress, step as step_line

DEFAULT_OPSET = 17
PROG = "edgeinfer convert"

# `convert --quiet` (or a caller's quiet_steps()) silences the step lines and bars of
# the conversion under way without threading a flag through every converter
_quiet = contextvars.ContextVar("edgeinfer_convert_quiet", default=False)


@contextlib.contextmanager
def quiet_steps(quiet=True):
    token = _quiet.set(quiet)
    try:
        yield
    finally:
        _quiet.reset(token)


def say(message):
    """Progress and decisions the user should know about, on stderr so that
    stdout stays clean for scripts."""
    print(f"{PROG}: {message}", file=sys.stderr)


def step(message):
    """What the conversion is doing now ("exporting with torch.onnx ..."), for
    the steps that can take seconds: shown on a terminal, not in a pipe or quiet."""
    step_line(f"{PROG}: {message} ...", quiet=_quiet.get())


def bar(iterable, desc, unit="image"):
    """A progress bar over a counted step (calibration images), as quiet as the steps."""
    return progress(iterable, total=len(iterable), desc=desc, unit=unit, quiet=_quiet.get())
