"""Reading images from disk, and the sample photo that ships with the package."""
import os

import numpy as np

from .errors import UserError

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
SAMPLE_IMAGE = os.path.join(DATA_DIR, "chelsea.jpg")  # a tabby cat, from scikit-image


def read_image(path):
    """A BGR uint8 frame from an image file, or a UserError saying why not."""
    import cv2

    if not os.path.exists(path):
        raise UserError(f"image {path} does not exist")
    frame = cv2.imread(path, cv2.IMREAD_COLOR)
    if frame is None:
        data = np.fromfile(path, dtype=np.uint8) if os.path.isfile(path) else None
        what = "is empty" if data is not None and data.size == 0 else "is not an image OpenCV can read"
        raise UserError(f"image {path} {what}: give a JPEG, PNG, BMP or TIFF file")
    return frame
