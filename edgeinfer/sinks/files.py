"""Opening result files for line-by-line writing; "-" is standard output."""
import os
import sys

from ..errors import UserError


def open_for_lines(path, what, newline=None):
    """A text file opened for writing one flushed line at a time, so a run that is
    stopped keeps every line it already produced; a UserError when it cannot be."""
    if path == "-":
        return sys.stdout
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        return open(path, "w", encoding="utf-8", newline=newline)
    except OSError as error:
        raise UserError(f"cannot write the {what} file {path}: {error.strerror}") from None


def write_line(file, path, text):
    """Writes and flushes one line; False when the reader of a pipe has gone
    (`edgeinfer run ... --json - | head`), which ends the run. A full disk or a
    vanished folder becomes a UserError naming the file (the lines before it
    are already on disk)."""
    try:
        file.write(text)
        file.flush()
    except BrokenPipeError:
        silence(file)
        return False
    except OSError as error:
        raise UserError(f"cannot write to {path}: {error.strerror}; the lines before this one "
                        "are complete") from None
    return True


def silence(stream):
    """Points a stream whose reader has gone at /dev/null, so later writes and
    Python's own flush at exit do not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)


def close_file(file):
    """Closes a result file, but never standard output."""
    if file is sys.stdout:
        try:
            file.flush()
        except BrokenPipeError:
            pass
    else:
        file.close()
