"""`edgeinfer inspect MODEL.onnx`: inputs, outputs, operators, size, cost,
the edgeinfer metadata, and which backends can run it."""
import json

from ..metadata import read_info
from .model_summary import backends, load_model_file, summarize


def add_arguments(parser):
    parser.add_argument("model", help="an ONNX model file")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")


def _shape(dims):
    return "[" + ", ".join(str(d) for d in dims) + "]"


def _macs_size(at):
    """' at HxW (why that size)' for a model whose height and width are free."""
    if at is None:
        return ""
    why = "the size in its metadata" if at["size_from"] == "metadata" else \
        "a common size; the model takes any"
    return f" at {at['height']}x{at['width']} ({why})"


def run(args):
    model = load_model_file(args.model)
    info = read_info(model, args.model)   # MetadataError is a ModelError: one line, exit 2
    facts = summarize(model, info.image.size if info and info.image else None)
    runs = backends(args.model)
    if args.json:
        facts["operators"] = dict(facts["operators"])
        facts["metadata"] = json.loads(info.to_json()) if info else None
        facts["backends"] = runs
        print(json.dumps(facts, indent=2))
        return 0
    print(f"model       {args.model}")
    print(f"producer    {facts['producer'] or 'unknown'}, opset {facts['opset']}")
    for name, dims in facts["inputs"]:
        print(f"input       {name} {_shape(dims)}")
    for name, dims in facts["outputs"]:
        print(f"output      {name} {_shape(dims)}")
    print(f"parameters  {facts['parameters']:,}")
    print(f"MACs        {facts['macs']:,} per input{_macs_size(facts['macs_at'])} "
          "(Conv, Gemm and MatMul, batch 1)")
    ops = ", ".join(f"{op} {n}" for op, n in facts["operators"].most_common())
    print(f"operators   {sum(facts['operators'].values())}: {ops}")
    for name, verdict in runs.items():
        print(f"backend     {name}: {verdict}")
    if info is None:
        print("metadata    none: annotate it with `edgeinfer convert MODEL.onnx -o OUT.onnx "
              "--labels ... --preprocess ...`")
        return 0
    print(f"task        {info.task}, output {info.output}")
    labels = ", ".join(info.labels[:8]) + (f" ... ({len(info.labels)} in all)"
                                           if len(info.labels) > 8 else "")
    print(f"labels      {labels or 'none'}")
    if info.image:
        image = info.image
        print(f"image       {image.size[0]}x{image.size[1]} {image.layout} {image.color}, "
              f"resize {image.resize}, crop {image.crop}, mean {list(image.mean)}, "
              f"std {list(image.std)}, {image.dtype}")
    if info.sensor:
        print(f"sensor      {info.sensor}")
    print(f"source      {json.dumps(info.source, sort_keys=True)}")
    print(f"verified    {json.dumps(info.verification, sort_keys=True)}")
    if info.quantization:
        print(f"quantized   {json.dumps(info.quantization, sort_keys=True)}")
    print(f"format      edgeinfer model format {info.format_version}")
    return 0
