"""What a converted graph says about itself: its input and output, whether it
ends in a softmax, and the ModelInfo that records all of it with the labels
and preprocessing the user declared."""
from dataclasses import replace


from ..errors import UserError
from ..metadata import ImageInput, ModelInfo
from .preprocessing import apply_spec
from .sensor_spec import sensor_input

ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 10: "float16", 11: "float64"}


def _dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else None
            for d in value_info.type.tensor_type.shape.dim]


def graph_inputs(model):
    """Inputs that are not initializers: (name, dims with None for free axes, dtype)."""
    initializers = {i.name for i in model.graph.initializer}
    return [(v.name, _dims(v), ONNX_DTYPES.get(v.type.tensor_type.elem_type, "other"))
            for v in model.graph.input if v.name not in initializers]


def graph_outputs(model):
    return [(v.name, _dims(v)) for v in model.graph.output]


def image_layout(dims):
    """("nchw" | "nhwc", (H, W), channels) for a 4-D image input, else None."""
    if len(dims) != 4:
        return None
    if dims[1] in (1, 3) and dims[3] not in (1, 3):
        return "nchw", (dims[2], dims[3]), dims[1]
    if dims[3] in (1, 3):
        return "nhwc", (dims[1], dims[2]), dims[3]
    return None


def ends_in_softmax(model, name=None):
    """True when the output (default the first) is produced by a Softmax, possibly
    behind shape-only nodes: such a model outputs probabilities, not logits."""
    producers = {out: node for node in model.graph.node for out in node.output}
    name = name or model.graph.output[0].name
    while name in producers:
        node = producers[name]
        if node.op_type == "Softmax":
            return True
        if node.op_type not in ("Identity", "Reshape", "Flatten", "Squeeze", "Cast"):
            return False
        name = node.input[0]
    return False


def single_input(model, origin):
    inputs = graph_inputs(model)
    if len(inputs) != 1:
        raise UserError(f"{origin} has {len(inputs)} inputs ({', '.join(n for n, _, _ in inputs)}); "
                        "edgeinfer runs classifiers with one input tensor")
    return inputs[0]


def scores_output(model, origin, output_name=None):
    """(name, dims) of the output holding the class scores: output_name, or the first."""
    outputs = graph_outputs(model)
    if output_name is None:
        return outputs[0]
    for output in outputs:
        if output[0] == output_name:
            return output
    listed = ", ".join(f"{n} {d}" for n, d in outputs)
    raise UserError(f"{origin} has no output {output_name!r}; its outputs are {listed}")


def describe(model, origin, labels=None, image_defaults=None, preprocess=None, source=None,
             output_name=None):
    """A ModelInfo for model: task and input spec from its input shape, the
    output kind from its last node, labels checked against the output width."""
    name, dims, dtype = single_input(model, origin)
    output, output_dims = scores_output(model, origin, output_name)
    classes = output_dims[-1] if output_dims else None
    if labels is not None and classes is not None and len(labels) != classes:
        raise UserError(f"{origin} outputs {classes} scores but {len(labels)} labels were given: "
                        "give one label per output class, in output order")
    info = ModelInfo(labels=list(labels or []), input_name=name, source=dict(source or {}),
                     output="probabilities" if ends_in_softmax(model, output) else "logits",
                     output_name=output_name)
    image = image_layout(dims)
    if image:
        layout, size, channels = image
        defaults = image_defaults or ImageInput()
        spec = apply_spec(defaults, preprocess)
        if size[0] and size[1]:
            asked = tuple(spec.size)
            if asked != tuple(defaults.size) and asked != tuple(size):
                raise UserError(f"{origin} takes {size[0]}x{size[1]} images but the declared "
                                f"preprocessing says size={asked[0]},{asked[1]}: drop size= or "
                                "export the model at that size")
            spec = replace(spec, size=size)
        spec = replace(spec, layout=layout, size=tuple(spec.size), mean=tuple(spec.mean),
                       std=tuple(spec.std), dtype="uint8" if dtype == "uint8" else "float32")
        if channels == 1:
            spec = replace(spec, color="gray", mean=spec.mean[:1] * 3, std=spec.std[:1] * 3)
        if spec.dtype == "uint8":
            spec = replace(spec, mean=(0.0,) * 3, std=(1.0,) * 3)
        info.image = spec
    else:
        info.task = "sensor-classification"
        info.sensor = sensor_input(dims, preprocess, origin)
    return info
