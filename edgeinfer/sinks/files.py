"""Opening result files for line-by-line writing."""
import os

from ..errors import UserError


def open_for_lines(path, what, newline=None):
    """A text file opened for writing one flushed line at a time, so a run that is
    stopped keeps every line it already produced; a UserError when it cannot be."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        return open(path, "w", encoding="utf-8", newline=newline)
    except OSError as error:
        raise UserError(f"cannot write the {what} file {path}: {error.strerror}") from None


def write_line(file, path, text):
    """Writes and flushes one line; a full disk or a vanished folder becomes a
    UserError naming the file (the lines before it are already on disk)."""
    try:
        file.write(text)
        file.flush()
    except OSError as error:
        raise UserError(f"cannot write to {path}: {error.strerror}; the lines before this one "
                        "are complete") from None
