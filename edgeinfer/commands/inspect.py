"""`edgeinfer inspect [-m] MODEL.onnx`: inputs, outputs, operators, size,
cost, the edgeinfer metadata, and which backends can run it; in words, or as
one JSON document (--json PATH, '-' for standard output)."""
import json

from ..metadata import read_info
from .model_summary import backends, load_model_file, summarize
from .options import add_model, models, write_json


def add_arguments(parser):
    add_model(parser, positional=True)
    # a bare --json (the old flag) prints the document
    parser.add_argument("--json", nargs="?", const="-", default=None, metavar="PATH",
                        help="write every fact as one JSON document to PATH ('-' or no PATH: "
                             "standard output) instead of the text")


def _shape(dims):
    return "[" + ", ".join(str(d) for d in dims) + "]"


def _macs_size(at):
    """' at HxW (why that size)' for a model whose height and width are free."""
    if at is None:
        return ""
    why = "the size in its metadata" if at["size_from"] == "metadata" else \
        "a common size; the model takes any"
    return f" at {at['height']}x{at['width']} ({why})"


def _macs(facts):
    """The MACs line: a count, or a lower bound naming the nodes it leaves out
    (never a silent 0 for a model whose shapes are known only when it runs)."""
    where = f"per input{_macs_size(facts['macs_at'])}"
    uncounted = facts["macs_uncounted"]
    if not uncounted:
        return f"{facts['macs']:,} {where} (Conv, Gemm and MatMul, batch 1)"
    names = ", ".join(uncounted[:3]) + (f" ... ({len(uncounted)} in all)"
                                         if len(uncounted) > 3 else "")
    if not facts["macs"]:
        return (f"unknown: the shapes of its Conv, Gemm and MatMul nodes are known only when "
                f"the model runs ({names})")
    return (f"at least {facts['macs']:,} {where} (Conv, Gemm and MatMul, batch 1; not "
            f"counted, their shapes known only when the model runs: {names})")


def _words(value):
    """A value as people write it: no None, no brackets of a Python tuple."""
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_words(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_words(v)}" for k, v in sorted(value.items()))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _crop(crop):
    if crop is None:
        return "no crop"
    if crop == "letterbox":
        return "letterbox"
    return f"centre crop {_words(crop)}"


def _sensor(sensor):
    rate = f" at {sensor.sample_rate:g} Hz" if sensor.sample_rate else ""
    return (f"{sensor.window}-sample windows every {sensor.hop} samples{rate} of "
            f"{', '.join(sensor.channels)}; layout {sensor.layout}, mean "
            f"{_words(list(sensor.mean))}, std {_words(list(sensor.std))}")


def _producer(facts):
    # tf2onnx writes "1.17.0 None" as its version when it knows no commit
    words = [word for word in facts["producer"].split() if word != "None"]
    return " ".join(words) or "unknown"


def _model_path(args):
    if not (args.model or args.model_positional) and (args.json or "").lower().endswith(".onnx"):
        # `inspect --json M.onnx`, the old flag before the model: M.onnx is the model
        args.model_positional, args.json = args.json, "-"
    return models(args)[0]


def run(args):
    path = _model_path(args)
    model = load_model_file(path)
    info = read_info(model, path)   # MetadataError is a ModelError: one line, exit 2
    facts = summarize(model, info.image.size if info and info.image else None, path)
    runs = backends(path)
    if args.json:
        facts["operators"] = dict(facts["operators"])
        facts["metadata"] = json.loads(info.to_json()) if info else None
        facts["backends"] = runs
        write_json(args.json, json.dumps(facts, indent=2) + "\n")
        return 0
    print(f"model       {path}")
    print(f"producer    {_producer(facts)}, opset {facts['opset']}")
    for name, dims in facts["inputs"]:
        print(f"input       {name} {_shape(dims)}")
    for name, dims in facts["outputs"]:
        print(f"output      {name} {_shape(dims)}")
    print(f"parameters  {facts['parameters']:,}")
    print(f"MACs        {_macs(facts)}")
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
              f"resize {image.resize}, {_crop(image.crop)}, mean {_words(list(image.mean))}, "
              f"std {_words(list(image.std))}, {image.dtype}")
    if info.sensor:
        print(f"sensor      {_sensor(info.sensor)}")
    print(f"source      {_words(info.source) if info.source else 'not recorded'}")
    print(f"verified    {_words(info.verification) if info.verification else 'no'}")
    if info.quantization:
        print(f"quantized   {_words(info.quantization)}")
    print(f"format      edgeinfer model format {info.format_version}")
    return 0
