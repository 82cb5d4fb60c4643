cdef extern from "pool.h":
    ctypedef struct ei_pool2d_params:
        int planes
        int in_height, in_width
        int out_height, out_width
        int kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w
        int pad_top, pad_left, pad_bottom, pad_right
        int count_include_pad

    int ei_max_pool2d(const ei_pool2d_params *p, const float *x, float *y) nogil
    int ei_avg_pool2d(const ei_pool2d_params *p, const float *x, float *y) nogil
    void ei_global_avg_pool(int planes, int size, const float *x, float *y) nogil


def pool2d(bint average, x, out, tuple kernel, tuple stride, tuple dilation, tuple pads,
           bint count_include_pad):
    """x: (planes, H, W); out: (planes, out_h, out_w), its size chosen by the
    caller; pads (top, left, bottom, right)."""
    Pool2dCall(average, x, out, kernel, stride, dilation, pads, count_include_pad)()


cdef class Pool2dCall:
    """pool2d(...) bound once, for the native planner's steps (see Conv2dCall)."""
    cdef ei_pool2d_params p
    cdef bint average
    cdef object arrays
    cdef const float *x
    cdef float *y

    def __init__(self, bint average, const float[:, :, ::1] x, float[:, :, ::1] out,
                 tuple kernel, tuple stride, tuple dilation, tuple pads, bint count_include_pad):
        if x.shape[0] != out.shape[0]:
            raise ValueError("pool2d: input and output plane counts differ")
        p = &self.p
        p.planes, p.in_height, p.in_width = x.shape[0], x.shape[1], x.shape[2]
        p.out_height, p.out_width = out.shape[1], out.shape[2]
        p.kernel_h, p.kernel_w = kernel
        p.stride_h, p.stride_w = stride
        p.dilation_h, p.dilation_w = dilation
        p.pad_top, p.pad_left, p.pad_bottom, p.pad_right = pads
        p.count_include_pad = count_include_pad
        self.average, self.x, self.y = average, &x[0, 0, 0], &out[0, 0, 0]
        self.arrays = (x, out)

    def __call__(self):
        cdef int status
        with nogil:
            if self.average:
                status = ei_avg_pool2d(&self.p, self.x, self.y)
            else:
                status = ei_max_pool2d(&self.p, self.x, self.y)
        if status == -2:
            raise MemoryError("pool2d: out of memory")
        if status != 0:
            raise ValueError("pool2d: inconsistent parameters reached the C kernel")


def global_avg_pool(const float[:, ::1] x, float[::1] out):
    """x: (planes, values per plane) -> out: (planes,)."""
    if x.shape[0] != out.shape[0]:
        raise ValueError("global_avg_pool: input and output plane counts differ")
    with nogil:
        ei_global_avg_pool(x.shape[0], x.shape[1], &x[0, 0], &out[0])
