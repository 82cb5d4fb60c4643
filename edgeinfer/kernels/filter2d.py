"""Frame filters (OpenCV filter2D semantics) on the convolution core, in C."""
import numpy as np

from ..core.loader import core as _core
from .filter_kernels import BORDERS, check_border, check_image, filter_kernel


def filter2d(image, kernel, border="reflect101"):
    """Correlate every channel of an image with a small 2-D kernel.

    image: H x W or H x W x C, uint8 or float32, any strides (views of larger
        frames are read in place).
    kernel: a 2-D array, or a preset name: "box3", "box5", "gaussian3",
        "gaussian5", "sobel_x", "sobel_y", "laplacian", "sharpen".
    border: "reflect101" (OpenCV's default, cb|abcd|cb), "replicate"
        (aa|abcd|dd) or "constant" (zeros).

    As cv2.filter2D(image, -1, kernel, borderType=...): the anchor is the
    kernel's centre (kh // 2, kw // 2), the output has the input's shape and
    type; uint8 results are rounded half to even and saturated to 0..255
    (use float32 input for signed results such as Sobel).
    """
    check_image(image)
    check_border(border)
    kernel = filter_kernel(kernel)
    out = np.empty(image.shape, image.dtype)
    src = _channels_last(image)
    if src.strides[2] != src.itemsize or any(s % src.itemsize for s in src.strides):
        src = np.ascontiguousarray(src)  # channels not adjacent: one copy, then the fast path
    _core.filter2d(src, _channels_last(out), kernel, BORDERS.index(border))
    return out


def _channels_last(image):
    """H x W x C view of an image; a 2-D one gains a channel axis whose stride
    is one element (numpy's image[:, :, None] would give it stride 0)."""
    if image.ndim == 3:
        return image
    return np.lib.stride_tricks.as_strided(image, image.shape + (1,),
                                           image.strides + (image.itemsize,),
                                           writeable=image.flags.writeable)
