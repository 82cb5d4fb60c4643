"""Writing result files so that an interrupted run never leaves a torn one."""
import os
import tempfile

import numpy as np


def atomic_write(path, write):
    """Calls write(file) on a temporary file beside path, then renames it into
    place: readers see the old file or the whole new one, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_npy(path, array):
    atomic_write(path, lambda f: np.save(f, array))
