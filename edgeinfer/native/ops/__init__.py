"""Operator factories by ONNX operator name (default domain)."""
from . import activation, arithmetic, conv, layout, linear, pool, prelu, quant, resize, split, \
    swish

OPS = {}
for module in (activation, arithmetic, conv, layout, linear, pool, prelu, quant, resize, split,
               swish):
    OPS.update(module.OPS)

__all__ = ["OPS"]
