"""Reading images from disk, and the sample photo that ships with the package."""
import os

import numpy as np

from .errors import UserError

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
SAMPLE_IMAGE = os.path.join(DATA_DIR, "chelsea.jpg")  # a tabby cat, from scikit-image


class UnreadableImage(UserError):
    """An image file that cannot be read; `reason` says why, without the path."""

    def __init__(self, path, reason, hint=": give a JPEG, PNG, BMP or TIFF file"):
        super().__init__(f"image {path} {reason}{hint}")
        self.reason = reason


def read_image(path):
    """A BGR uint8 frame from an image file, or an UnreadableImage saying why not."""
    from .opencv_io import quiet_cv2

    cv2 = quiet_cv2()
    if not os.path.exists(path):
        raise UnreadableImage(path, "does not exist", hint="")
    try:
        frame = cv2.imread(path, cv2.IMREAD_COLOR)
    except cv2.error as error:
        # imread raises (rather than returning None) for a header it refuses, such as a
        # few bytes declaring 60000x60000 pixels: a decompression bomb, or a damaged file
        if "CV_IO_MAX_IMAGE_PIXELS" in str(error):
            raise UnreadableImage(path, "declares more pixels than OpenCV will decode (a "
                                        "damaged file or a decompression bomb)") from None
        raise UnreadableImage(path, "is damaged: OpenCV cannot decode it") from None
    if frame is None:
        data = np.fromfile(path, dtype=np.uint8) if os.path.isfile(path) else None
        what = "is empty" if data is not None and data.size == 0 else "is not an image OpenCV can read"
        raise UnreadableImage(path, what)
    return frame
