"""One way to show long work: a tqdm bar on standard error when it is a
terminal, nothing in a pipe, a log file or with --quiet. Every command that can
be silent for more than a few seconds (building, converting, calibrating,
benchmarking, collecting, personalising, a folder of images) goes through here,
so they all look and behave alike."""
import sys


def shown(quiet=False, stream=None):
    """Whether a bar would be drawn: not asked to be quiet, and a person watching."""
    stream = stream or sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()


def progress(iterable=None, *, total=None, desc=None, unit="it", quiet=False):
    """`iterable` wrapped in a bar (or returned as it is when none is shown); with
    no iterable, a bar to `update(n)` by hand. Use as a context manager or close it."""
    if not shown(quiet):
        return _Silent(iterable)
    from tqdm import tqdm  # only when a bar is drawn: the import costs start-up time

    return tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                dynamic_ncols=True)


class _Silent:
    """The part of tqdm's interface callers use, doing nothing."""

    def __init__(self, iterable):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        pass

    def set_postfix_str(self, text):
        pass

    def set_description(self, text):
        pass

    def close(self):
        pass


def advance(bar):
    """A `callback(done, total)` (the form the library's long loops report in)
    that moves `bar` to `done`."""
    reached = [0]

    def callback(done, total=None):
        bar.update(done - reached[0])
        reached[0] = done
    return callback


def step(text, quiet=False):
    """A step line ("converting with tf2onnx ...") for work that has no count
    to show: printed where a bar would be drawn, nowhere else."""
    if shown(quiet):
        print(text, file=sys.stderr, flush=True)
