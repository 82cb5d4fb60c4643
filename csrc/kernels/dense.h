/* Dense (fully connected) layer: the classifier head. With one or a few rows
 * it is a matrix-vector product, bound by reading the weights once; packing
 * it for a GEMM micro-kernel would cost more than the product. */
#ifndef EDGEINFER_DENSE_H
#define EDGEINFER_DENSE_H

/* y (rows x n) = x (rows x k) . w (k x n) + bias (n values, or NULL).
 * All arrays contiguous. */
void ei_dense(int rows, int k, int n, const float *x, const float *w, const float *bias,
              float *y);

#endif
