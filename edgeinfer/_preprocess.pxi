cdef extern from "preprocess.h":
    ctypedef struct ei_image_u8:
        const uint8_t *data
        int height, width, channels
        Py_ssize_t row_stride, pixel_stride

    ctypedef struct ei_preprocess_params:
        int out_height, out_width, out_channels
        int box_top, box_left, box_height, box_width
        int resize, layout, out_type
        float mix[3][3]
        float bias[3]
        float pad[3]

    int ei_preprocess(const ei_image_u8 *src, const ei_preprocess_params *params, void *out) nogil


def preprocess(const uint8_t[:, :, :] region, int channels, tuple out_shape, tuple box,
               int resize, int layout, int out_type, const float[:, ::1] mix,
               const float[::1] bias, const float[::1] pad, uint8_t[::1] out):
    """region: H x W x C uint8 view whose channels are adjacent; out: the output
    tensor's bytes. out_shape is (height, width, channels)."""
    cdef ei_image_u8 src
    cdef ei_preprocess_params p
    cdef int c, k, status
    if region.strides[2] != 1:
        raise ValueError("the channels of a pixel must be adjacent in memory")
    src.data = &region[0, 0, 0]
    src.height = region.shape[0]
    src.width = region.shape[1]
    src.channels = channels
    src.row_stride = region.strides[0]
    src.pixel_stride = region.strides[1]
    p.out_height, p.out_width, p.out_channels = out_shape
    p.box_top, p.box_left, p.box_height, p.box_width = box
    p.resize, p.layout, p.out_type = resize, layout, out_type
    for c in range(3):
        for k in range(3):
            p.mix[c][k] = mix[c, k]
        p.bias[c] = bias[c]
        p.pad[c] = pad[c]
    with nogil:
        status = ei_preprocess(&src, &p, &out[0])
    if status == -2:
        raise MemoryError("preprocess: out of memory for scratch rows")
    if status != 0:
        raise ValueError("preprocess: inconsistent parameters reached the C kernel")
