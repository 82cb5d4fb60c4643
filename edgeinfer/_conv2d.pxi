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
    int ei_conv2d_residual_packed(const ei_conv2d_params *p, const float *x, const float *w,
                                  const float *packed_w, int packed_level, const float *bias,
                                  const float *residual, float *y) nogil
    size_t ei_conv2d_pointwise_packed_size(int out_channels, int in_channels)
    int ei_conv2d_pointwise_pack(int out_channels, int in_channels, const float *w, float *packed)
    int ei_conv2d_force_depthwise(int path)
    int ei_conv2d_force_indirect(int path)
    int ei_conv2d_force_pointwise(int path)

cdef extern from "depthwise_blocked.h":
    void ei_depthwise_blocked_force_band_rows(int rows)


DEPTHWISE_PATHS = ("rows", "flat", "blocked")
DENSE_PATHS = ("im2col", "indirect", "bands")


def conv2d_force_dense(name):
    """Force the dense path ("im2col", "indirect" row by row, or "bands": the
    indirect GEMM over bands of rows); None chooses by shape."""
    ei_conv2d_force_indirect(-1 if name is None else DENSE_PATHS.index(name))



def conv2d_force_pointwise(name):
    """Force the 1x1 path ("in_place", "packed": per call if need be); None: as given."""
    ei_conv2d_force_pointwise(-1 if name is None else ("in_place", "packed").index(name))


def conv2d_pack_pointwise(const float[:, :, :, ::1] w):
    """(packed, level): 1x1 weights (M, C, 1, 1) packed for the active level's GEMM."""
    if w.shape[2] != 1 or w.shape[3] != 1:
        raise ValueError(f"conv2d_pack_pointwise: 1x1 weights only, not {w.shape[2]}x{w.shape[3]}")
    import numpy as np
    packed = np.empty(ei_conv2d_pointwise_packed_size(w.shape[0], w.shape[1]), np.float32)
    cdef float[::1] view = packed
    return packed, ei_conv2d_pointwise_pack(w.shape[0], w.shape[1], &w[0, 0, 0, 0], &view[0])


def conv2d_force_depthwise(name):
    """Force the depthwise path ("rows", "flat" or "blocked", channels-last);
    None chooses by shape."""
    ei_conv2d_force_depthwise(-1 if name is None else DEPTHWISE_PATHS.index(name))


def conv2d_force_depthwise_bands(rows):
    """Run the channels-last depthwise path in bands of this many output rows
    (each filling only the padded input rows it reads); None: as planned."""
    ei_depthwise_blocked_force_band_rows(0 if rows is None else rows)


def conv2d(x, w, bias, out, tuple stride, tuple dilation, tuple pads, int groups, clamp,
           residual=None, packed=None):
    """Contiguous float32 NCHW x, (M, C/groups, kh, kw) w, bias of M or None;
    pads (top, left, bottom, right); clamp None or (lo, hi); residual None or
    an array of out's shape (not overlapping it) added before the clamp, for
    dense and grouped convolutions; packed None or conv2d_pack_pointwise(w).
    Shapes were checked by edgeinfer.kernels.conv2d (and the residual's by
    the native planner)."""
    Conv2dCall(x, w, bias, out, stride, dilation, pads, groups, clamp, residual, packed)()


cdef class Conv2dCall:
    """conv2d(...) with its arrays and parameters bound once (the native
    planner's steps: a call is the C kernel alone, where conv2d's argument
    work took ~2 us); the arrays are kept alive by the call. Packed 1x1
    weights are used while the level they were packed for is active."""
    cdef ei_conv2d_params p
    cdef object arrays
    cdef const float *x
    cdef const float *w
    cdef const float *b
    cdef const float *r
    cdef const float *packed_w
    cdef int packed_level
    cdef size_t packed_size
    cdef float *y

    def __init__(self, const float[:, :, :, ::1] x, const float[:, :, :, ::1] w,
                 const float[::1] bias, float[:, :, :, ::1] out, tuple stride, tuple dilation,
                 tuple pads, int groups, clamp, const float[:, :, :, ::1] residual=None,
                 packed=None):
        cdef const float[::1] packed_view
        p = &self.p
        p.batch, p.in_channels, p.in_height, p.in_width = x.shape[0], x.shape[1], x.shape[2], \
            x.shape[3]
        p.out_channels, p.kernel_h, p.kernel_w = w.shape[0], w.shape[2], w.shape[3]
        p.stride_h, p.stride_w = stride
        p.dilation_h, p.dilation_w = dilation
        p.pad_top, p.pad_left, p.pad_bottom, p.pad_right = pads
        p.groups, p.clamp = groups, clamp is not None
        p.lo, p.hi = clamp if clamp is not None else (0.0, 0.0)
        self.b = self.r = self.packed_w = NULL
        self.packed_level = -1
        if bias is not None:
            self.b = &bias[0]
        if residual is not None:
            if any(residual.shape[i] != out.shape[i] for i in range(4)):
                raise ValueError("conv2d: the residual must have the output's shape")
            self.r = &residual[0, 0, 0, 0]
        if packed is not None:
            packed_view = packed[0]
            self.packed_size = packed_view.shape[0]
            if packed[1] == <int>ei_simd_active() and self.packed_size != \
                    ei_conv2d_pointwise_packed_size(w.shape[0], w.shape[1]):
                raise ValueError("conv2d: the packed weights are not these weights' packing")
            self.packed_w, self.packed_level = &packed_view[0], packed[1]
        self.x, self.w, self.y = &x[0, 0, 0, 0], &w[0, 0, 0, 0], &out[0, 0, 0, 0]
        self.arrays = (x, w, bias, out, residual, packed)

    def __call__(self):
        cdef int status
        # a packing made for another level (a test forcing one) is not read,
        # nor one whose size is not these weights' packing for this level
        cdef const float *packed_w = self.packed_w \
            if self.packed_level == <int>ei_simd_active() and self.packed_size == \
            ei_conv2d_pointwise_packed_size(self.p.out_channels, self.p.in_channels) else NULL
        with nogil:
            status = ei_conv2d_residual_packed(&self.p, self.x, self.w, packed_w,
                                               self.packed_level, self.b, self.r, self.y)
        if status == -2:
            raise MemoryError("conv2d: out of memory for packed operands")
        if status != 0:
            raise ValueError("conv2d: inconsistent parameters reached the C kernel")
