"""`edgeinfer eval`: several models (and a kNN baseline) on one labelled test
set — accuracy, per-class precision/recall/F1, confusion matrices, latency —
printed, and written as a Markdown + JSON report."""
from __future__ import annotations

import os
import sys

from ..backends import BACKENDS
from ..errors import UserError
from ..learn.evaluate import evaluate_locally, load_test_set, open_scorers, truth_names
from ..learn.metrics import summarize
from ..learn.report import comparison_table, confusion_text, notes, report_json, write_report
from ..learn.scorers import knn_baseline, model_specs
from ..progress import advance, progress
from . import options

PROG = "edgeinfer eval"


def add_arguments(parser):
    options.add_model(parser, many=True, positional=True)
    parser.add_argument("--data", "-d", required=True, metavar="TESTDIR",
                        help="a folder per class of images or sensor windows, or a labelled "
                             "sensor CSV (channels + a class column)")
    parser.add_argument("--label-column", metavar="NAME",
                        help="the class column of a labelled sensor CSV (default: the one "
                             "column holding words)")
    parser.add_argument("--baseline", choices=["knn"],
                        help="add a kNN-on-features baseline: 1-nearest neighbour on the first "
                             "model's embeddings of the --train samples")
    parser.add_argument("--train", metavar="DATA", help="the baseline's samples, a folder per "
                                                        "class")
    parser.add_argument("--report", metavar="OUT_DIR",
                        help="write report.md, report.json and predictions.jsonl here")
    options.add_json(parser, "the report (every model's summary, as report.json)")
    parser.add_argument("--plot", action="store_true",
                        help="also draw each model's confusion matrix as a PNG in the report "
                             "folder")
    parser.add_argument("--ray", metavar="auto|ADDRESS",
                        help="classify on a Ray cluster (auto: the running one, else a local "
                             "instance); needs the ray extra: pip install '.[ray]'")
    parser.add_argument("--backend", default="auto", help=" | ".join(["auto", *BACKENDS]))
    options.add_threads(parser)
    options.add_quiet(parser, "no progress bar")


def _check(args):
    if args.baseline and not args.train:
        raise UserError("--baseline knn is trained on --train DATA: give the folder of "
                        "training samples (a folder per class)")
    if args.train and not args.baseline:
        raise UserError("--train is for the --baseline knn model: add --baseline knn")
    if args.plot and not args.report:
        raise UserError("--plot draws into the report folder: give --report OUT_DIR")
    if args.report and os.path.isfile(args.report):
        raise UserError(f"--report {args.report} is a file: give a folder to write into")


def run(args):
    _check(args)
    models = options.models(args, many=True)
    threads = options.resolve_threads(args.threads)
    specs = model_specs(models)
    if args.baseline:
        specs.append(knn_baseline(models[0], args.train, args.backend, threads))
    scorers = open_scorers(specs, args.backend, threads)
    test_set = load_test_set(scorers, args.data, args.label_column)
    print(f"{PROG}: {len(test_set.items)} samples of {len(test_set.classes)} classes through "
          f"{len(scorers)} model{'s' if len(scorers) != 1 else ''}", file=sys.stderr)
    if args.ray:
        from ..learn.ray_eval import evaluate_on_ray

        outcomes = evaluate_on_ray(args.ray, specs, scorers, test_set, args.backend,
                                   threads, args.label_column)
    else:
        with progress(total=len(test_set.items), desc="classifying", unit="sample",
                      quiet=args.quiet) as bar:
            outcomes = evaluate_locally(scorers, test_set, args.label_column,
                                        progress=advance(bar))
    truth = truth_names(test_set)
    summaries = [summarize(o, test_set.classes, truth) for o in outcomes]
    if args.json:
        options.write_json(args.json, report_json(test_set, summaries))
    # with --json - standard output is the JSON alone
    table = sys.stderr if args.json == "-" else sys.stdout
    print(comparison_table(summaries), file=table)
    for summary in summaries:
        print(f"\n{summary['model']}:", file=table)
        for line in notes(summary):
            print(f"  note: {line}", file=table)
        print(confusion_text(summary), file=table)
    if args.report:
        written = write_report(args.report, test_set, outcomes, summaries, plot=args.plot)
        print(f"{PROG}: wrote {', '.join(written)}", file=sys.stderr)
    return 0
