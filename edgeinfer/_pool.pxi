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


cdef ei_pool2d_params pool_params(const float[:, :, ::1] x, float[:, :, ::1] out, tuple kernel,
                                  tuple stride, tuple dilation, tuple pads,
                                  bint count_include_pad) except *:
    cdef ei_pool2d_params p
    if x.shape[0] != out.shape[0]:
        raise ValueError("pool2d: input and output plane counts differ")
    p.planes = x.shape[0]
    p.in_height, p.in_width = x.shape[1], x.shape[2]
    p.out_height, p.out_width = out.shape[1], out.shape[2]
    p.kernel_h, p.kernel_w = kernel
    p.stride_h, p.stride_w = stride
    p.dilation_h, p.dilation_w = dilation
    p.pad_top, p.pad_left, p.pad_bottom, p.pad_right = pads
    p.count_include_pad = count_include_pad
    return p


cdef int run_pool(bint average, const ei_pool2d_params *p, const float *x, float *y) except -1:
    cdef int status
    with nogil:
        if average:
            status = ei_avg_pool2d(p, x, y)
        else:
            status = ei_max_pool2d(p, x, y)
    if status == -2:
        raise MemoryError("pool2d: out of memory")
    if status != 0:
        raise ValueError("pool2d: inconsistent parameters reached the C kernel")
    return 0


def pool2d(bint average, const float[:, :, ::1] x, float[:, :, ::1] out, tuple kernel,
           tuple stride, tuple dilation, tuple pads, bint count_include_pad):
    """x: (planes, H, W); out: (planes, out_h, out_w), its size chosen by the
    caller; pads (top, left, bottom, right)."""
    cdef ei_pool2d_params p = pool_params(x, out, kernel, stride, dilation, pads,
                                          count_include_pad)
    run_pool(average, &p, &x[0, 0, 0], &out[0, 0, 0])


cdef class Pool2dCall:
    """pool2d(...) with its arrays and parameters fixed when built, for the
    native planner's steps (see Conv2dCall)."""
    cdef ei_pool2d_params p
    cdef bint average
    cdef object arrays
    cdef const float *x
    cdef float *y

    def __init__(self, bint average, const float[:, :, ::1] x, float[:, :, ::1] out,
                 tuple kernel, tuple stride, tuple dilation, tuple pads, bint count_include_pad):
        self.p = pool_params(x, out, kernel, stride, dilation, pads, count_include_pad)
        self.average = average
        self.x, self.y = &x[0, 0, 0], &out[0, 0, 0]
        self.arrays = (x, out)

    def __call__(self):
        run_pool(self.average, &self.p, self.x, self.y)


def global_avg_pool(const float[:, ::1] x, float[::1] out):
    """x: (planes, values per plane) -> out: (planes,)."""
    if x.shape[0] != out.shape[0]:
        raise ValueError("global_avg_pool: input and output plane counts differ")
    with nogil:
        ei_global_avg_pool(x.shape[0], x.shape[1], &x[0, 0], &out[0])


cdef class GlobalAvgPoolCall:
    """global_avg_pool(x, out) with its arrays fixed when built, for the native
    planner's steps (see Conv2dCall)."""
    cdef object arrays
    cdef int planes, size
    cdef const float *x
    cdef float *y

    def __init__(self, const float[:, ::1] x, float[::1] out):
        if x.shape[0] != out.shape[0]:
            raise ValueError("global_avg_pool: input and output plane counts differ")
        self.planes, self.size = x.shape[0], x.shape[1]
        self.x, self.y = &x[0, 0], &out[0]
        self.arrays = (x, out)

    def __call__(self):
        with nogil:
            ei_global_avg_pool(self.planes, self.size, self.x, self.y)
