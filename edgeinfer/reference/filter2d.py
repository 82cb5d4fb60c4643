"""numpy twin of edgeinfer.filter2d."""
import numpy as np

from ..kernels.filter_kernels import check_border, check_image, filter_kernel

NUMPY_PAD_MODES = {"constant": "constant", "replicate": "edge", "reflect101": "reflect"}


def filter2d(image, kernel, border="reflect101"):
    """Same arguments and result as edgeinfer.filter2d, accumulated in float64."""
    check_image(image)
    check_border(border)
    kernel = filter_kernel(kernel).astype(np.float64)
    kh, kw = kernel.shape
    src = image.astype(np.float64)
    if src.ndim == 2:
        src = src[:, :, None]
    h, w = src.shape[:2]
    top, left = kh // 2, kw // 2
    padded = np.pad(src, ((top, kh - 1 - top), (left, kw - 1 - left), (0, 0)),
                    mode=NUMPY_PAD_MODES[border])
    result = np.zeros(src.shape)
    for ky in range(kh):
        for kx in range(kw):
            result += kernel[ky, kx] * padded[ky:ky + h, kx:kx + w]
    if image.dtype == np.uint8:
        result = np.clip(np.rint(result), 0, 255)
    return result.reshape(image.shape).astype(image.dtype)
