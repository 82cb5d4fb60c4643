from libc.stdint cimport int64_t

cdef extern from "elementwise.h":
    int EI_BINARY_MAX_RANK
    int ei_binary(int op, int rank, const int64_t *shape, const float *a,
                  const int64_t *a_strides, const float *b, const int64_t *b_strides,
                  float *y) nogil

BINARY_OPS = ("add", "sub", "mul", "div", "max", "min")


cdef class BinaryCall:
    """y = a op b with the broadcast already resolved: `shape` and the strides
    (in elements, 0 on broadcast axes) of a and b, fixed when built, so a call
    does no shape work. a, b and y are kept alive by the call."""
    cdef int op, rank
    cdef int64_t shape[8]
    cdef int64_t a_strides[8]
    cdef int64_t b_strides[8]
    cdef object a_ref, b_ref, y_ref
    cdef const float *a
    cdef const float *b
    cdef float *y

    def __init__(self, int op, shape, a_strides, b_strides, const float[::1] a,
                 const float[::1] b, float[::1] y):
        cdef int d
        cdef int64_t total = 1
        if not 1 <= len(shape) <= EI_BINARY_MAX_RANK or op < 0 or op >= len(BINARY_OPS):
            raise ValueError("binary: unsupported rank or op")
        self.op, self.rank = op, len(shape)
        for d in range(self.rank):
            self.shape[d], self.a_strides[d], self.b_strides[d] = shape[d], a_strides[d], \
                b_strides[d]
            total *= shape[d]
        if total != y.shape[0]:
            raise ValueError("binary: output size does not match the shape")
        self.a_ref, self.b_ref, self.y_ref = a, b, y
        self.a, self.b, self.y = &a[0], &b[0], &y[0]

    def __call__(self):
        with nogil:
            ei_binary(self.op, self.rank, self.shape, self.a, self.a_strides, self.b,
                      self.b_strides, self.y)
