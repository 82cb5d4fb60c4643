"""Image files named as FILE, DIR or GLOB (several may be given), read in
order; a file that is not an image is skipped with a warning."""
from __future__ import annotations

import glob
import logging
import os
import time

import numpy as np

from ..errors import SourceError
from ..media import UnreadableImage, read_image
from .capture import ReadAhead
from .frame import Frame

log = logging.getLogger("edgeinfer")

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                    ".pbm", ".jp2")


def expand(patterns):
    """The image files patterns name: files as given, directories' image files
    (sorted, not recursive), globs' matches (sorted)."""
    paths = []
    for pattern in patterns:
        if os.path.isdir(pattern):
            found = sorted(os.path.join(pattern, name) for name in os.listdir(pattern)
                           if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
                           and os.path.isfile(os.path.join(pattern, name)))
            if not found:
                kinds = ", ".join(IMAGE_EXTENSIONS[:5])
                raise SourceError(f"folder {pattern} has no image files ({kinds}, ...)")
            paths.extend(found)
        elif os.path.isfile(pattern):
            paths.append(pattern)
        elif glob.has_magic(pattern):
            found = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
            if not found:
                raise SourceError(f"no files match {pattern}")
            paths.extend(found)
        else:
            raise SourceError(f"image {pattern} does not exist: give a file, a folder or a "
                              "pattern such as 'photos/*.jpg' (quoted)")
    return paths


class ImageFiles:
    def __init__(self, paths):
        self.paths = list(paths)
        self.description = f"{len(self.paths)} image file{'s' if len(self.paths) != 1 else ''}"
        self.fps = None
        self.skipped = 0

    def frames(self):
        index = 0
        for path in self.paths:
            try:
                image = read_image(path)
            except UnreadableImage as error:
                self.skipped += 1
                log.warning(f"skipping {path}: it {error.reason}")
                continue
            yield Frame(np.ascontiguousarray(image), index, time.monotonic(), time.time(),
                        path=path)
            index += 1


def open_images(patterns):
    """A started source over image files; SourceError when the patterns name none."""
    if isinstance(patterns, str):
        patterns = [patterns]
    return ReadAhead(ImageFiles(expand(patterns))).start()
