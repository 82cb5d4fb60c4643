"""The option vocabulary every command shares, so a flag means the same thing
wherever it appears: the model as --model/-m (a positional model still taken
where a command had one), --labels as a file or a comma list, --json PATH with
'-' for standard output, --threads N|all, --top-k with the library's default."""
import argparse
import os
import sys

from ..errors import UserError
from ..run.postprocess import DEFAULT_TOP_K


def add_model(parser, many=False, positional=False):
    """--model/-m M.onnx (repeatable with many=True); with positional=True a bare
    MODEL is taken as well. `models(args)` reads the result either way."""
    parser.add_argument("--model", "-m", metavar="M.onnx", action="append", default=None,
                        dest="model",
                        help="the .onnx model file" + ("; give it again for several models "
                                                        "side by side" if many else ""))
    if positional:
        parser.add_argument("model_positional", nargs="*" if many else "?", metavar="MODEL",
                            help="the model file, as --model")


def models(args, many=False):
    """The model paths from --model and a positional MODEL, in the order given;
    a one-line error when there is none (or several where one is taken)."""
    given = list(args.model or [])
    positional = getattr(args, "model_positional", None)
    if isinstance(positional, str):
        given.append(positional)
    elif positional:
        given.extend(positional)
    if not given:
        raise UserError("--model is required: the .onnx file to use (make one from a Keras or "
                        "PyTorch model with `edgeinfer convert`)")
    if not many and len(given) > 1:
        raise UserError(f"this command takes one model, got {len(given)}: "
                        f"{', '.join(given)}")
    return given


def thread_count(text):
    """argparse type for --threads: a positive number, or 'all' (every core)."""
    if str(text).lower() == "all":
        return "all"
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a positive number or 'all', got {text!r}") \
            from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"takes a positive number or 'all', got {text!r}")
    return count


def resolve_threads(value):
    """--threads as the backends take it: None (their default), or a count."""
    return os.cpu_count() or 1 if value == "all" else value


def add_threads(parser, help_default="the backend's default (all cores)"):
    parser.add_argument("--threads", type=thread_count, default=None, metavar="N|all",
                        help=f"inference threads: N or 'all' (default: {help_default})")


def add_json(parser, what="every result"):
    parser.add_argument("--json", metavar="PATH", default=None,
                        help=f"write {what} as JSON to PATH ('-': standard output)")


def write_json(path, text):
    """--json PATH: text written whole to PATH, or to standard output for '-'."""
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from ..sinks.output_files import atomic_write

    try:
        atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    except OSError as error:
        raise UserError(f"cannot write --json {path} ({error.strerror})") from None


def add_quiet(parser, what="no progress bars or step lines"):
    parser.add_argument("--quiet", "-q", action="store_true", help=what)


def add_labels(parser, what="class names overriding the model's"):
    parser.add_argument("--labels", metavar="FILE|a,b,c", default=None,
                        help=f"{what}: a file (one per line, or a JSON list) or a comma list")


def add_top_k(parser):
    parser.add_argument("--top-k", "-k", type=int, default=DEFAULT_TOP_K, metavar="K",
                        help=f"predictions per result (default {DEFAULT_TOP_K})")


def add_device(parser):
    parser.add_argument("--device", "--provider", default=None, metavar="NAME",
                        help="cpu, cuda, tensorrt, openvino, coreml, ...: onnxruntime's "
                             "execution provider to run on (default: the CPU)")
