"""`edgeinfer <command>`: each command is edgeinfer/commands/<name>.py with
add_arguments(parser) and run(args) -> exit code. A failure the user can fix
(UserError, or a bad argument) is one line, exit status 2; a bug is one line
too (exit 1) unless EDGEINFER_DEBUG=1 asks for the traceback."""
import importlib
import os
import sys

from .commands.parser import OneLineErrors
from .errors import UserError
from .version import __version__

COMMANDS = {
    # name: one-line help; the module is edgeinfer/commands/<name>.py
    "preprocess": "Turn an image into a model input tensor and time it",
    "run": "Classify what a camera, video, stream or set of images shows, live",
    "bench": "Measure a model's latency, throughput and memory per backend and thread count",
    "convert": "Turn a Keras, PyTorch, TFLite or ONNX model into one verified, self-describing ONNX file",
    "inspect": "Show what an ONNX model file takes, computes and says about itself",
    "collect": "Save labelled samples from a camera, video, images or sensor stream, a folder "
               "per class",
    "personalize": "Teach a model your own classes: a new head on its embeddings of your samples",
    "serve": "Serve models over HTTP: an API, a live page of a camera or video, metrics",
    "eval": "Compare models (and a kNN baseline) on one labelled test set: accuracy, confusion, "
            "latency",
}


def build_parser(only=None):
    """Every command's parser, or with `only` (a command name) that one's alone in
    full: the others are listed by name and help, their modules never imported,
    so `edgeinfer run` does not load what `personalize` or `serve` need."""
    parser = OneLineErrors(prog="edgeinfer", description="Image and sensor classifiers on "
                           "edge devices.")
    parser.add_argument("--version", "-V", action="version", version=f"edgeinfer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if only in (None, name):
            module = importlib.import_module(f"edgeinfer.commands.{name}")
            module.add_arguments(command)
            command.set_defaults(handler=module.run)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    # the top level's options (--help, --version) take no value: the first word is the command
    named = next((word for word in argv if not word.startswith("-")), None)
    args = build_parser(named if named in COMMANDS else None).parse_args(argv)
    try:
        return args.handler(args) or 0
    except UserError as error:
        print(f"edgeinfer {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"edgeinfer {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`edgeinfer inspect m.onnx | head`): what it wanted was
        # printed; point stdout at nothing so the interpreter's final flush stays quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as error:
        if debugging():
            raise
        what = type(error).__name__ + (f": {str(error).splitlines()[0]}" if str(error) else "")
        print(f"edgeinfer {args.command}: unexpected error ({what}); set EDGEINFER_DEBUG=1 for "
              "the traceback", file=sys.stderr)
        return 1


def debugging():
    return os.environ.get("EDGEINFER_DEBUG", "") not in ("", "0")


if __name__ == "__main__":
    sys.exit(main())
