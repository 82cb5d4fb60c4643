"""What an ONNX model file takes and computes: inputs and outputs, opset,
operator histogram, parameter count and multiply-accumulates, for
`edgeinfer inspect`. Needs only onnx (and onnxruntime to say whether it runs)."""
from collections import Counter

import numpy as np



def _dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in value_info.type.tensor_type.shape.dim]


# counted at this size when a model's height and width are free and its
# metadata names none: the size most image classifiers are trained at
DEFAULT_IMAGE_SIZE = (224, 224)


def _free_image_axes(value):
    """(height axis, width axis) of a 4-D image input whose height and width
    are free (NCHW when the channel axis 1 is fixed, else NHWC), or None."""
    dims = value.type.tensor_type.shape.dim
    if len(dims) != 4:
        return None
    fixed = [d.HasField("dim_value") for d in dims]
    for axes, channel in (((2, 3), 1), ((1, 2), 3)):
        if fixed[channel] and not any(fixed[a] for a in axes):
            return axes
    return None


def _input_shapes(model, image_size):
    """{input name: dims} with free image height and width set to image_size
    (height, width) and other free axes to 1; an input whose rank is not
    declared is left out."""
    initializers = {t.name for t in model.graph.initializer}
    shapes = {}
    for value in model.graph.input:
        if value.name in initializers or not value.type.tensor_type.HasField("shape"):
            continue
        image_axes = _free_image_axes(value) or ()
        shapes[value.name] = [
            dim.dim_value if dim.HasField("dim_value") else
            image_size[image_axes.index(axis)] if axis in image_axes else 1
            for axis, dim in enumerate(value.type.tensor_type.shape.dim)]
    return shapes


def _shapes_at_batch_one(model, inputs):
    """Every tensor's shape by ONNX shape inference, with the inputs' free axes
    fixed as in inputs ({name: dims})."""
    import onnx

    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    for value in fixed.graph.input:
        if value.name in inputs:
            for dim, size in zip(value.type.tensor_type.shape.dim, inputs[value.name]):
                dim.dim_value = size
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


def _folded_shapes(model, inputs, path=None):
    """Shapes the native planner's load-time pass finds for the given input
    shapes, where ONNX shape inference stops: it computes what is known at load
    (the Shape/ConstantOfShape/Concat/Slice/Pad chains PyTorch's legacy exporter
    pads convolutions with), so the shapes after them become known."""
    from ..model_file import open_model_file
    from ..native.fold import fold
    from ..native.graph import read_graph

    try:
        model_file = open_model_file(path if path is not None else model.SerializeToString())
        found = fold(read_graph(model_file), inputs, model_file.origin, refuse=False)[2]
    except Exception:  # a graph the planner cannot follow (or an input of unknown rank,
        return {}      # a KeyError here) still has its other facts
    return {name: list(shape) for name, (shape, _) in found.items()}


def _macs(node, shapes):
    """Multiply-accumulates of one node at batch 1: 0 when negligible, None
    when its shapes are unknown."""
    if node.op_type in ("Conv", "ConvInteger", "QLinearConv"):
        weight = node.input[3] if node.op_type == "QLinearConv" else node.input[1]
        out, w = shapes.get(node.output[0]), shapes.get(weight)
        return int(np.prod(out) * np.prod(w[1:])) if out and w else None
    if node.op_type in ("Gemm", "MatMul", "MatMulInteger", "QLinearMatMul"):
        a = node.input[3] if node.op_type == "QLinearMatMul" else node.input[0]
        out, left = shapes.get(node.output[0]), shapes.get(a)
        if not (out and left):
            return None
        # Gemm's transA keeps A as (K, M): the inner size is then its first axis
        transposed = node.op_type == "Gemm" and any(
            attr.name == "transA" and attr.i for attr in node.attribute)
        return int(np.prod(out) * left[0 if transposed else -1])
    # an If, Loop or Scan branch is not counted: unknown when it holds such a node
    branches = [a.g for a in node.attribute if a.HasField("g")] + \
        [g for a in node.attribute for g in a.graphs]
    return None if any(_macs(n, {}) is None for g in branches for n in g.node) else 0


def _count_macs(model, inputs, path=None):
    """(MACs of the nodes whose shapes are known, names of the nodes whose are
    not). ONNX shape inference first; the native planner's folding for what it
    leaves unknown (inference is lighter, and its numbers stay as they were)."""
    shapes = _shapes_at_batch_one(model, inputs)
    macs = [_macs(node, shapes) for node in model.graph.node]
    if None in macs:
        for name, dims in _folded_shapes(model, inputs, path).items():
            shapes.setdefault(name, dims)
        macs = [_macs(node, shapes) for node in model.graph.node]
    uncounted = [node.name or node.output[0]
                 for node, count in zip(model.graph.node, macs) if count is None]
    return sum(count for count in macs if count is not None), uncounted


def summarize(model, image_size=None, path=None):
    """Facts of a model. MACs of a model with free image height and width are
    counted at image_size (height, width) — the size its metadata names — or
    at DEFAULT_IMAGE_SIZE; `macs_at` says which size was used (None when
    every size is fixed). `macs_uncounted` names the Conv, Gemm and MatMul
    nodes whose shapes neither ONNX shape inference nor the native planner can
    tell: `macs` is then a lower bound. path: the model's file, whose weights
    kept beside it the planner can read."""
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    initializers = {t.name for t in model.graph.initializer}
    free_images = any(_free_image_axes(v) for v in model.graph.input if v.name not in initializers)
    size = tuple(int(d) for d in (image_size or DEFAULT_IMAGE_SIZE))
    macs, uncounted = _count_macs(model, _input_shapes(model, size), path)
    return dict(
        inputs=[(v.name, _dims(v)) for v in model.graph.input if v.name not in initializers],
        outputs=[(v.name, _dims(v)) for v in model.graph.output],
        opset=opset,
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        operators=Counter(node.op_type for node in model.graph.node),
        parameters=int(sum(np.prod(t.dims) for t in model.graph.initializer)),
        macs=macs,
        macs_uncounted=uncounted,
        macs_at=dict(height=size[0], width=size[1],
                     size_from="metadata" if image_size else "default") if free_images else None,
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
            found[name] = f"no ({reason[:600]})"   # long enough for every blocking node
        else:
            version = getattr(registry._module(name), "version", lambda: None)()
            found[name] = f"yes ({version})" if version else "yes"
    return found


def load_model_file(path):
    """The ModelProto at path, refused exactly as `edgeinfer.load` refuses it."""
    from ..model_file import read_onnx_file

    return read_onnx_file(path)
