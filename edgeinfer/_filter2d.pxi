cdef extern from "plane_filter.h":
    ctypedef enum ei_border:
        pass
    ctypedef enum ei_pixel_type:
        pass

cdef extern from "filter2d.h":
    ctypedef struct ei_image:
        const void *data
        void *out
        ei_pixel_type type
        int height, width, channels
        Py_ssize_t row_stride, col_stride, out_row_stride, out_col_stride

    int ei_filter2d(const ei_image *image, const float *kernel, int kernel_h, int kernel_w,
                    ei_border border) nogil

ctypedef fused pixel:
    uint8_t
    float


def filter2d(const pixel[:, :, :] image, pixel[:, :, :] out, const float[:, ::1] kernel,
             int border):
    """H x W x C image and out of the same type (channels adjacent, any row
    and column strides); border is an ei_border value."""
    cdef ei_image im
    cdef int status
    cdef Py_ssize_t size = sizeof(pixel)
    # a buffer reports any stride for an axis of length one (numpy recomputes
    # it for contiguous arrays: a transposed grey image's channel stride is
    # its whole size), and no element is ever addressed through it
    if (image.shape[2] > 1 and image.strides[2] != size) or \
            (out.shape[2] > 1 and out.strides[2] != size):
        raise ValueError("the channels of a pixel must be adjacent in memory")
    im.data = &image[0, 0, 0]
    im.out = &out[0, 0, 0]
    im.type = <ei_pixel_type>(1 if pixel is uint8_t else 0)
    im.height, im.width, im.channels = image.shape[0], image.shape[1], image.shape[2]
    im.row_stride, im.col_stride = image.strides[0] // size, image.strides[1] // size
    im.out_row_stride, im.out_col_stride = out.strides[0] // size, out.strides[1] // size
    with nogil:
        status = ei_filter2d(&im, &kernel[0, 0], kernel.shape[0], kernel.shape[1],
                             <ei_border>border)
    if status == -2:
        raise MemoryError("filter2d: out of memory for padded rows")
    if status != 0:
        raise ValueError("filter2d: inconsistent parameters reached the C kernel")
