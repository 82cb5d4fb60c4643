cdef extern from "conv2d.h":
    ctypedef struct ei_conv2d_params:
        int batch, in_channels, in_height, in_width
        int out_channels, kernel_h, kernel_w
        int stride_h, stride_w, dilation_h, dilation_w
        int pad_top, pad_left, pad_bottom, pad_right
        int groups
        int clamp
        float lo, hi

    int ei_conv2d(const ei_conv2d_params *p, const float *x, const float *w, const float *bias,
                  float *y) nogil
    int ei_conv2d_residual(const ei_conv2d_params *p, const float *x, const float *w,
                           const float *bias, const float *residual, float *y) nogil
    int ei_conv2d_force_depthwise(int path)
    int ei_conv2d_force_indirect(int path)


DEPTHWISE_PATHS = ("rows", "flat", "blocked")
DENSE_PATHS = ("im2col", "indirect", "bands")


def conv2d_force_dense(name):
    """Force the dense path ("im2col", "indirect" row by row, or "bands": the
    indirect GEMM over bands of rows); None chooses by shape."""
    ei_conv2d_force_indirect(-1 if name is None else DENSE_PATHS.index(name))



def conv2d_force_depthwise(name):
    """Force the depthwise path ("rows", "flat" or "blocked", channels-last);
    None chooses by shape."""
    ei_conv2d_force_depthwise(-1 if name is None else DEPTHWISE_PATHS.index(name))


def conv2d(x, w, bias, out, tuple stride, tuple dilation, tuple pads, int groups, clamp,
           residual=None):
    """Contiguous float32 NCHW x, (M, C/groups, kh, kw) w, bias of M or None;
    pads (top, left, bottom, right); clamp None or (lo, hi); residual None or
    an array of out's shape (not overlapping it) added before the clamp, for
    dense and grouped convolutions. Shapes were checked by
    edgeinfer.kernels.conv2d (and the residual's by the native planner)."""
    Conv2dCall(x, w, bias, out, stride, dilation, pads, groups, clamp, residual)()


cdef class Conv2dCall:
    """conv2d(...) with its arrays and parameters bound once (the native
    planner's steps: a call is the C kernel alone, where conv2d's argument
    work took ~2 us); the arrays are kept alive by the call."""
    cdef ei_conv2d_params p
    cdef object arrays
    cdef const float *x
    cdef const float *w
    cdef const float *b
    cdef const float *r
    cdef float *y

    def __init__(self, const float[:, :, :, ::1] x, const float[:, :, :, ::1] w,
                 const float[::1] bias, float[:, :, :, ::1] out, tuple stride, tuple dilation,
                 tuple pads, int groups, clamp, const float[:, :, :, ::1] residual=None):
        p = &self.p
        p.batch, p.in_channels, p.in_height, p.in_width = x.shape[0], x.shape[1], x.shape[2], \
            x.shape[3]
        p.out_channels, p.kernel_h, p.kernel_w = w.shape[0], w.shape[2], w.shape[3]
        p.stride_h, p.stride_w = stride
        p.dilation_h, p.dilation_w = dilation
        p.pad_top, p.pad_left, p.pad_bottom, p.pad_right = pads
        p.groups, p.clamp = groups, clamp is not None
        p.lo, p.hi = clamp if clamp is not None else (0.0, 0.0)
        self.b = self.r = NULL
        if bias is not None:
            self.b = &bias[0]
        if residual is not None:
            if any(residual.shape[i] != out.shape[i] for i in range(4)):
                raise ValueError("conv2d: the residual must have the output's shape")
            self.r = &residual[0, 0, 0, 0]
        self.x, self.w, self.y = &x[0, 0, 0, 0], &w[0, 0, 0, 0], &out[0, 0, 0, 0]
        self.arrays = (x, w, bias, out, residual)

    def __call__(self):
        cdef int status
        with nogil:
            status = ei_conv2d_residual(&self.p, self.x, self.w, self.b, self.r, self.y)
        if status == -2:
            raise MemoryError("conv2d: out of memory for packed operands")
        if status != 0:
            raise ValueError("conv2d: inconsistent parameters reached the C kernel")
