"""The public kernel API: argument checking in Python, the work in C."""
from .activation import activation, softmax
from .conv2d import conv2d
from .dense import dense
from .elementwise import binary
from .filter2d import filter2d
from .pool import avg_pool2d, global_avg_pool, max_pool2d
from .preprocess import preprocess
from .qconv import qconv1x1, qconv1x1_nhwc
from .qdwconv import qdwconv, qdwconv_nhwc
from .qdq import dequantize_u8, qadd_u8, quantize_u8, quantize_u8_nhwc

__all__ = ["activation", "avg_pool2d", "binary", "conv2d", "dense", "dequantize_u8", "filter2d",
           "global_avg_pool", "max_pool2d", "preprocess", "qadd_u8", "qconv1x1",
           "qconv1x1_nhwc", "qdwconv", "qdwconv_nhwc", "quantize_u8", "quantize_u8_nhwc",
           "softmax"]
