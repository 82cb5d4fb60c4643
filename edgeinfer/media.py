"""Reading images from disk, and the sample photo that ships with the package."""
import os

import numpy as np

from .errors import UserError

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
SAMPLE_IMAGE = os.path.join(DATA_DIR, "chelsea.jpg")  # a tabby cat, from scikit-image


def read_image(path):
    """A BGR uint8 frame from an image file, or a UserError saying why not."""
    from .sources.opencv_io import quiet_cv2

    cv2 = quiet_cv2()
    if not os.path.exists(path):
        raise UserError(f"image {path} does not exist")
    try:
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
    except cv2.error as error:
        # imread raises (rather than returning None) for a header it refuses, such as a
        # few bytes declaring 60000x60000 pixels: a decompression bomb, or a damaged file
        too_large = "CV_IO_MAX_IMAGE_PIXELS" in str(error)
        why = ("declares more pixels than OpenCV will decode (a damaged file or a "
               "decompression bomb)") if too_large else "is damaged: OpenCV cannot decode it"
        raise UserError(f"image {path} {why}; give a JPEG, PNG, BMP or TIFF file") from None
    if frame is None:
        data = np.fromfile(path, dtype=np.uint8) if os.path.isfile(path) else None
        what = "is empty" if data is not None and data.size == 0 else "is not an image OpenCV can read"
        raise UserError(f"image {path} {what}: give a JPEG, PNG, BMP or TIFF file")
    return frame
