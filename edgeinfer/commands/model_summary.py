"""What an ONNX model file takes and computes: inputs and outputs, opset,
operator histogram, parameter count and multiply-accumulates, for
`edgeinfer inspect`. Needs only onnx (and onnxruntime to say whether it runs)."""
from collections import Counter

import numpy as np



def _dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in value_info.type.tensor_type.shape.dim]


def _shapes_at_batch_one(model):
    """Every tensor's shape with free axes set to 1, by ONNX shape inference."""
    import onnx

    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    for value in fixed.graph.input:
        for dim in value.type.tensor_type.shape.dim:
            if not dim.HasField("dim_value"):
                dim.dim_value = 1
    try:
        inferred = onnx.shape_inference.infer_shapes(fixed)
    except Exception:  # a graph shape inference cannot follow still has its other facts
        inferred = fixed
    shapes = {t.name: list(t.dims) for t in inferred.graph.initializer}
    for value in list(inferred.graph.input) + list(inferred.graph.value_info) + \
            list(inferred.graph.output):
        dims = _dims(value)
        if dims and all(isinstance(d, int) for d in dims):
            shapes[value.name] = dims
    return shapes


def _macs(node, shapes):
    """Multiply-accumulates of one node at batch 1, or 0 when unknown or negligible."""
    if node.op_type in ("Conv", "ConvInteger", "QLinearConv"):
        weight = node.input[3] if node.op_type == "QLinearConv" else node.input[1]
        out, w = shapes.get(node.output[0]), shapes.get(weight)
        return int(np.prod(out) * np.prod(w[1:])) if out and w else 0
    if node.op_type in ("Gemm", "MatMul", "MatMulInteger", "QLinearMatMul"):
        a = node.input[3] if node.op_type == "QLinearMatMul" else node.input[0]
        out, left = shapes.get(node.output[0]), shapes.get(a)
        return int(np.prod(out) * left[-1]) if out and left else 0
    return 0


def summarize(model):
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    initializers = {t.name for t in model.graph.initializer}
    shapes = _shapes_at_batch_one(model)
    return dict(
        inputs=[(v.name, _dims(v)) for v in model.graph.input if v.name not in initializers],
        outputs=[(v.name, _dims(v)) for v in model.graph.output],
        opset=opset,
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        operators=Counter(node.op_type for node in model.graph.node),
        parameters=int(sum(np.prod(t.dims) for t in model.graph.initializer)),
        macs=sum(_macs(node, shapes) for node in model.graph.node),
    )


def backends(model_path):
    """Which backends can run the model here: name -> "yes" or why not, by
    opening each as `edgeinfer.load` would (so inspect and load agree)."""
    from .. import backends as registry
    from ..errors import ModelError

    found = {}
    for name, (available, reason) in registry.availability().items():
        if not available:
            found[name] = f"not available ({reason})"
            continue
        try:
            registry.open_backend(model_path, name, threads=1)
        except ModelError as error:
            reason = str(error).split("; use --backend")[0]
            reason = reason[len(f"{model_path}: "):] if reason.startswith(f"{model_path}: ") \
                else reason   # the path is on the first line already
            found[name] = f"no ({reason[:240]})"
        else:
            version = getattr(registry._module(name), "version", lambda: None)()
            found[name] = f"yes ({version})" if version else "yes"
    return found


def load_model_file(path):
    """The ModelProto at path, refused exactly as `edgeinfer.load` refuses it."""
    from ..model_file import read_onnx_file

    return read_onnx_file(path)
