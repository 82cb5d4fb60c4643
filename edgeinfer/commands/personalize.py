"""`edgeinfer personalize`: a base model + DATA/<label>/ samples -> one new
model file whose head is trained, here and in seconds, on the base trunk's
embeddings of those samples."""
from __future__ import annotations

import json
import sys

from ..backends import BACKENDS
from ..errors import UserError
from ..learn.heads import HEADS
from ..learn.personalize import personalize
from ..progress import advance, progress, step
from . import options

PROG = "edgeinfer personalize"


def add_arguments(parser):
    options.add_model(parser, positional=True)
    parser.add_argument("--data", "-d", required=True, metavar="DATA",
                        help="a folder per class of images or sensor windows")
    parser.add_argument("-o", "--output", required=True, metavar="PERSONAL.onnx",
                        help="the new model file")
    parser.add_argument("--head", choices=list(HEADS), default="softmax",
                        help="softmax: logistic regression (default); knn: nearest sample; "
                             "ncm: nearest class mean")
    parser.add_argument("--add", action="store_true",
                        help="keep the base model's classes and append the new ones")
    parser.add_argument("--cut", metavar="TENSOR",
                        help="the tensor to use as the embedding (default: the input of the "
                             "final Gemm/MatMul)")
    parser.add_argument("--augment", type=int, default=0, metavar="N",
                        help="N extra seeded variations of each sample (images: mirror, "
                             "crop, brightness; sensor windows: stretch, gain, noise)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation", type=float, default=0.2, metavar="FRACTION",
                        help="of each class held out to stop training and measure accuracy "
                             "(default 0.2)")
    parser.add_argument("--weight-decay", type=float, default=1e-2, metavar="L2")
    parser.add_argument("--backend", default="auto",
                        help=" | ".join(["auto", *BACKENDS]) + " for the embeddings")
    options.add_threads(parser)
    options.add_json(parser, "how the model was made (classes, samples, accuracy)")
    options.add_quiet(parser)


def run(args):
    if args.augment < 0:
        raise UserError(f"--augment must be 0 or more, got {args.augment}")
    if not 0.0 <= args.validation < 1.0:
        raise UserError(f"--validation is a fraction from 0 to below 1, got {args.validation}")
    if args.weight_decay < 0:
        raise UserError(f"--weight-decay must be 0 or more, got {args.weight_decay}")
    base = options.models(args)[0]
    with progress(desc="embedding", unit="sample", quiet=args.quiet) as bar:
        moved = advance(bar)

        def embedding(done, total):
            bar.total = total  # known once the samples are listed
            moved(done)
            if done == total:
                bar.close()  # the training's step lines follow on a clean line
        made = personalize(base, args.data, args.output, head=args.head, add=args.add,
                           cut=args.cut, backend=args.backend,
                           threads=options.resolve_threads(args.threads), augment=args.augment,
                           seed=args.seed, validation=args.validation,
                           weight_decay=args.weight_decay, progress=embedding,
                           step=lambda text: step(f"{PROG}: {text}", args.quiet))
    counts = ", ".join(f"{name} {n}" for name, n in made.samples_per_class.items())
    accuracy = made.validation_accuracy
    checked = (f"held-out accuracy {accuracy:.1%} on {made.metadata['validation_samples']} "
               "samples" if accuracy is not None else "no class had samples to hold out")
    print(f"{PROG}: {args.head} head on {made.metadata['embedding_size']}-d embeddings "
          f"({made.metadata['embedding']!r}) for {len(made.labels)} classes ({counts}); "
          f"{checked}", file=sys.stderr)
    print(f"{PROG}: wrote {args.output}", file=sys.stderr)
    if args.json:
        options.write_json(args.json, json.dumps(made.metadata, indent=2, ensure_ascii=False)
                           + "\n")
    return 0
