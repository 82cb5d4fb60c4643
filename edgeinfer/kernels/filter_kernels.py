"""Named kernels for filter2d: the classic frame filters."""
import numpy as np

_GAUSS3 = np.array([1, 2, 1], np.float32) / 4
_GAUSS5 = np.array([1, 4, 6, 4, 1], np.float32) / 16

FILTER_KERNELS = {
    "box3": np.full((3, 3), 1 / 9, np.float32),
    "box5": np.full((5, 5), 1 / 25, np.float32),
    # binomial, as cv2.getGaussianKernel gives for ksize 3 and 5 with sigma 0
    "gaussian3": np.outer(_GAUSS3, _GAUSS3),
    "gaussian5": np.outer(_GAUSS5, _GAUSS5),
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float32),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32),
}

BORDERS = ("constant", "replicate", "reflect101")  # order matches ei_border


def filter_kernel(kernel):
    """A preset name or a 2-D array -> a contiguous float32 kernel."""
    if isinstance(kernel, str):
        if kernel not in FILTER_KERNELS:
            raise ValueError(f"unknown filter {kernel!r}; presets: {', '.join(FILTER_KERNELS)}")
        return FILTER_KERNELS[kernel]
    kernel = np.asarray(kernel)
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError(f"kernel must be a non-empty 2-D array, got shape {kernel.shape}")
    if not np.issubdtype(kernel.dtype, np.number) or np.iscomplexobj(kernel):
        raise ValueError(f"kernel must be real numbers, got {kernel.dtype}")
    return np.ascontiguousarray(kernel, dtype=np.float32)


def check_image(image):
    if not isinstance(image, np.ndarray):
        raise ValueError(f"filter2d takes a numpy uint8 or float32 image, got {type(image).__name__}")
    if image.dtype not in (np.uint8, np.float32):
        raise ValueError(f"filter2d takes uint8 or float32 images, got {image.dtype}; "
                         f"convert with image.astype(np.float32)")
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"filter2d takes a non-empty HxW or HxWxC image, got shape {image.shape}")


def check_border(border):
    if border not in BORDERS:
        raise ValueError(f"border must be one of {BORDERS}, got {border!r}")
