"""`edgeinfer convert SRC -o OUT.onnx`: a Keras, Teachable Machine, SavedModel,
TFLite, TorchScript or ONNX model into one verified, self-describing ONNX file."""
import json
from dataclasses import asdict

from ..errors import UserError
from . import options

VERIFY_CALIBRATION_IMAGES = 8  # enough real photos to check parity; all are used to calibrate


def add_arguments(parser):
    kinds = ".keras | .h5 | SavedModel dir | .tflite | .pt (TorchScript) | .onnx"
    parser.add_argument("source", nargs="?", help=kinds)
    parser.add_argument("--model", "-m", metavar="SOURCE", dest="source_option",
                        help=f"the model to convert, as SOURCE: {kinds}")
    parser.add_argument("-o", "--output", required=True, help="the ONNX file to write")
    options.add_labels(parser, "class names (labels.txt beside the model is used when present)")
    options.add_json(parser, "the written file's metadata (labels, preprocessing, verification)")
    options.add_quiet(parser, "no step lines or progress bars (decisions and warnings still "
                              "print)")
    parser.add_argument("--output-name", default=None, metavar="NAME",
                        help="for an ONNX model with several outputs: the one holding the class "
                             "scores, recorded so `edgeinfer run` uses it")
    parser.add_argument("--preprocess", action="append", default=None, metavar="SPEC",
                        help="how inputs were prepared in training: a preset (imagenet, "
                             "teachable-machine, tf, caffe, unit, pixels) and/or key=value "
                             "(size=224,224 layout=nchw|nhwc color=rgb|bgr|gray "
                             "resize=bilinear|area|nearest crop=0.875|none|letterbox "
                             "mean=r,g,b std=r,g,b in 0..255 units)")
    sensor = parser.add_argument_group("sensor models (input (N, channels, window), (N, window, "
                                       "channels) or (N, window*channels))")
    sensor.add_argument("--sensor-window", type=int, default=None, metavar="W",
                        help="samples per window")
    sensor.add_argument("--hop", type=int, default=None, metavar="H",
                        help="samples between window starts (default: the window)")
    sensor.add_argument("--channels", default=None, metavar="a,b,c",
                        help="channel names in the model's order, matched to stream columns")
    sensor.add_argument("--sample-rate", type=float, default=None, metavar="HZ",
                        help="samples per second the model was trained on (gaps are reported)")
    sensor.add_argument("--sensor-layout", default=None, choices=["ncw", "nwc", "flat"],
                        help="how a window is laid out (default: read off the input shape)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--input-shape", default="1,3,224,224",
                        help="input shape for TorchScript files, which do not record it "
                             "(default 1,3,224,224)")
    parser.add_argument("--sample", action="extend", nargs="+", default=[],
                        metavar="FILE|DIR|GLOB",
                        help="real images to verify with, through the declared preprocessing: "
                             "files, folders of images or quoted patterns")
    parser.add_argument("--quantize", choices=["int8"], default=None,
                        help="static int8 quantisation; needs --calibration")
    parser.add_argument("--calibration", default=None, metavar="DIR|GLOB",
                        help="folder (or quoted pattern) of representative images for "
                             "--quantize (also verified on)")
    parser.add_argument("--strict", action="store_true",
                        help="with --quantize int8: fail, writing nothing, instead of warning about "
                             "too few calibration images or low int8/float top-1 agreement")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip comparing the converted model with the source framework")


def _input_shape(text):
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) < 2 or min(shape) < 1:
        raise UserError(f"--input-shape takes comma-separated sizes such as 1,3,224,224; got {text!r}")
    return shape


def _sensor_words(args):
    """The sensor flags as the key=value words --preprocess also takes."""
    flags = {"window": args.sensor_window, "hop": args.hop, "channels": args.channels,
             "sample_rate": args.sample_rate, "layout": args.sensor_layout}
    return [f"{key}={value}" for key, value in flags.items() if value is not None]


def run(args):
    from ..convert import convert_file
    from ..convert.common import quiet_steps
    from ..convert.labels import resolve_labels
    from ..sources.images import expand

    if args.source and args.source_option:
        raise UserError("give the model to convert once: as SOURCE or as --model")
    source = args.source or args.source_option
    if not source:
        raise UserError("give the model to convert: edgeinfer convert SOURCE -o OUT.onnx "
                        "(.keras, .h5, a SavedModel folder, .tflite, .pt or .onnx)")
    if args.quantize and not args.calibration:
        raise UserError("--quantize int8 needs --calibration DIR: a folder of representative images")
    if args.strict and not args.quantize:
        raise UserError("--strict applies to --quantize int8's warnings; add --quantize int8 or drop it")
    samples = expand(args.sample) if args.sample else []
    quantize = None
    if args.calibration:
        from ..convert.quantize import calibration_images
        samples += calibration_images(args.calibration)[:VERIFY_CALIBRATION_IMAGES]
        if args.quantize:
            quantize = dict(calibration=args.calibration, strict=args.strict)
    preprocess = args.preprocess
    if _sensor_words(args):
        preprocess = (preprocess or []) + _sensor_words(args)
    with quiet_steps(args.quiet):
        info = convert_file(source, args.output, labels=resolve_labels(args.labels),
                            output_name=args.output_name, preprocess=preprocess,
                            opset=args.opset, verify=not args.no_verify, sample_images=samples,
                            quantize=quantize, input_shape=_input_shape(args.input_shape))
    if args.json:
        options.write_json(args.json, json.dumps(asdict(info), indent=2, ensure_ascii=False)
                           + "\n")
    if args.json != "-":  # standard output is the JSON alone then
        print(args.output)
    return 0
