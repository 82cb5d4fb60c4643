"""Writing result files so that an interrupted run never leaves a torn one."""
import os
import tempfile

import numpy as np


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write):
    """Calls write(file) on a temporary file beside path, then renames it into
    place: readers see the old file or the whole new one, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        # mkstemp makes the file private (0600); give it the mode open() would have
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def save_npy(path, array):
    atomic_write(path, lambda f: np.save(f, array))
