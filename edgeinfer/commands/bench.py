"""`edgeinfer bench MODEL`: latency percentiles, throughput and peak memory of a
model per backend and thread count, preprocessing and inference apart, side by
side, with the machine it ran on. `bench --compare A.json B.json` sets two such
reports side by side."""
import argparse
import json
import os
import sys

from .. import backends
from .bench_compare import add_compare_arguments, compare
from .benchmarking import NOISY_SPREAD, machine_info, measure_isolated, with_ratios
from .options import add_json, add_model, add_threads, models, write_json
from ..errors import UserError
from ..model import load
from ..model_file import open_model_file
from ..native.work import MULTIPLY_ADDS_PER_THREAD
from ..progress import progress
from ..sources.images import expand


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if value <= 0:
            raise argparse.ArgumentTypeError(f"takes a positive number, got {text!r}")
        return value
    return parse


def add_arguments(parser):
    add_model(parser, positional=True)
    parser.add_argument("--backend", default="auto",
                        help="a backend name, 'auto' (the best installed) or 'all' (every one "
                             "that can run the model)")
    add_threads(parser, help_default="the backend's own, reported as its number; 'all' "
                                     "measures 1, 2, 4 ... up to every core")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--runs", "-n", type=positive(int), default=None, metavar="N",
                        help="measured runs per stream (default 50)")
    length.add_argument("--time", "-t", type=positive(float), default=None, metavar="SECONDS",
                        help="measure for this long instead of a number of runs")
    parser.add_argument("--streams", type=positive(int), default=1, metavar="N",
                        help="N sessions running side by side; items/s counts them all "
                             "(default 1)")
    parser.add_argument("--warmup", type=int, default=5, metavar="N",
                        help="runs before measuring (default 5)")
    parser.add_argument("--batch", type=int, default=1, metavar="N",
                        help="frames per run (default 1)")
    parser.add_argument("--image", nargs="+", metavar="FILE|DIR|GLOB", default=None,
                        help="the frames to feed, in turn (default: the bundled sample photo)")
    add_json(parser, "every figure and the machine")
    parser.add_argument("--profile", action="store_true",
                        help="per-operator times (backends that report them: native)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_compare_arguments(parser)


def _backends(choice, model, quiet=False):
    """The backends to measure, and {backend: why not} for the others."""
    availability = backends.availability()
    if choice == "auto":
        choice = backends.resolve("auto")[0]
    elif choice != "all" and choice not in backends.BACKENDS:
        raise UserError(f"unknown backend {choice!r}: choose auto, all or one of "
                        f"{', '.join(backends.BACKENDS)}")
    measured, skipped = [], {}
    names = list(backends.BACKENDS) if choice == "all" else [choice]
    # native's check plans the whole model: seconds for a large one on a cold cache
    for name in progress(names, desc="which backends can run it", unit="backend", quiet=quiet):
        ok, reason = availability[name]
        verdict = backends.resolve(name)[1].can_run(model) if ok else f"no ({reason})"
        if verdict == "yes":
            measured.append(name)
        else:
            skipped[name] = verdict[4:-1] if verdict.startswith("no (") else verdict
    if not measured and len(names) == 1:
        raise UserError(f"backend {names[0]} cannot run {model.origin}: {skipped[names[0]]}")
    if not measured:
        why = "; ".join(f"{name}: {reason}" for name, reason in skipped.items())
        raise UserError(f"no backend can run {model.origin}: {why}")
    return measured, skipped


def _thread_counts(choice):
    if choice is None:
        return [None]
    if choice == "all":
        cores, counts, n = os.cpu_count() or 1, [], 1
        while n < cores:
            counts.append(n)
            n *= 2
        return counts + [cores]
    return [choice]


def _check(args, model):
    for flag, value, least in (("--warmup", args.warmup, 0), ("--batch", args.batch, 1)):
        if value < least:
            raise UserError(f"{flag} must be at least {least}, got {value}")
    images = expand(args.image) if args.image else None
    measured, skipped = _backends(args.backend, open_model_file(model), args.quiet)
    loaded = load(model, backend=measured[0])  # fails fast before any child starts
    if images and loaded.info.image is None:
        raise UserError(f"{model} takes sensor windows, not images: leave out --image")
    if loaded.info.image is None:
        fed = "window(s) (one window of unit-variance noise)"
    else:
        fed = f"frame(s) ({f'{len(images)} images in turn' if images else 'the sample photo'})"
    return images, measured, skipped, fed


def format_rows(rows):
    head = (f"{'backend':12} {'thr':>4} {'batch':>5} {'strm':>4} {'p50':>8} {'p90':>8} "
            f"{'p99':>8} {'min':>8} {'max':>8} {'std':>7} {'pre p50':>8} {'inf p50':>8} "
            f"{'items/s':>8} {'peak MB':>8} {'vs best':>7}")
    lines = [head, "-" * len(head)]
    for row in rows:
        t = row["total_ms"]
        lines.append(
            f"{row['backend']:12} {row['threads']:>4} {row['batch']:5d} {row['streams']:4d} "
            f"{t['p50']:8.2f} {t['p90']:8.2f} {t['p99']:8.2f} {t['min']:8.2f} {t['max']:8.2f} "
            f"{t['std']:7.2f} {row['preprocess_ms']['p50']:8.2f} "
            f"{row['inference_ms']['p50']:8.2f} {row['throughput_per_s']:8.1f} "
            f"{row['peak_rss_mb']:8.1f} {row['ratio_to_fastest']:6.2f}x")
    return "\n".join(lines)


def format_profile(profile):
    width = max([len("operator")] + [len(entry["op"]) for entry in profile])
    lines = [f"  {'operator':{width}} {'calls':>6} {'ms':>9} {'share':>6}"]
    total = sum(entry["ms"] for entry in profile) or 1.0
    for entry in sorted(profile, key=lambda e: -e["ms"]):
        lines.append(f"  {entry['op']:{width}} {entry['calls']:6d} {entry['ms']:9.3f} "
                     f"{100 * entry['ms'] / total:5.1f}%")
    return "\n".join(lines)


def setting(row):
    """'native, 2 threads, batch 1' (and the streams when several)."""
    threads = f"{row['threads']} thread{'s' if row['threads'] != 1 else ''}"
    streams = f", {row['streams']} streams" if row["streams"] > 1 else ""
    return f"{row['backend']}, {threads}, batch {row['batch']}{streams}"


def noise_warnings(rows):
    return [f"warning: noisy run: {setting(row)}: p90 is {row['spread_p90_p50']:.2f}x p50 "
            f"(steady runs stay under {NOISY_SPREAD}x); close other programs or measure longer "
            "(--runs, -t)" for row in rows if row["noisy"]]


def _length(args):
    if args.time:
        return f"for {args.time:g} s after {args.warmup} warm-up runs"
    return f"{args.runs or 50} runs after {args.warmup} warm-up"


def run(args):
    if args.compare:
        if args.model or args.model_positional:
            raise UserError("--compare reads two reports and measures nothing: give it no model")
        return compare(*args.compare, args.fail_above)
    if args.fail_above is not None:
        raise UserError("--fail-above goes with --compare A.json B.json")
    model = models(args)[0]
    images, measured, skipped, fed = _check(args, model)
    rows = []
    for backend in measured:
        for threads in _thread_counts(args.threads):
            rows.append(measure_isolated(model, backend, threads, args.runs or 50, args.warmup,
                                         args.batch, images, args.profile, seconds=args.time,
                                         streams=args.streams, quiet=args.quiet))
    with_ratios(rows)
    machine = machine_info()
    core = machine["core"]
    out = sys.stderr if args.json == "-" else sys.stdout  # stdout carries the JSON then
    print(f"{model} on {machine['cpu']} ({machine['cores']} cores, {machine['machine']}); "
          f"edgeinfer core: {core['simd_active']} SIMD, thread pool {'on' if core['thread_pool'] else 'off'}",
          file=out)
    print(", ".join(f"{name} {version}" for name, version in machine["versions"].items()),
          file=out)
    print(f"times in ms per run of {args.batch} {fed}: preprocessing + inference, "
          f"{_length(args)}" + (f", {args.streams} streams side by side" if args.streams > 1
                                else ""), file=out)
    print(format_rows(rows), file=out)
    for name, reason in skipped.items():
        print(f"{name}: not measured, it cannot run this model ({reason})", file=out)
    if any(row["threads"] < row["threads_asked"] for row in rows):
        print("native: this model has too little work to share between threads; it runs on one "
              f"thread per {MULTIPLY_ADDS_PER_THREAD / 1e6:g} M multiply-adds (docs/native.md, "
              "Threads)", file=out)
    if args.profile:
        for row in rows:
            if row.get("profile"):
                print(f"per operator, {setting(row)}:", file=out)
                print(format_profile(row["profile"]), file=out)
            else:
                print(f"{row['backend']}: no per-operator times (use --backend native)", file=out)
    for warning in noise_warnings(rows):
        print(warning, file=sys.stderr)
    if args.json:
        report = json.dumps({"model": model, "machine": machine, "rows": rows,
                             "not_measured": skipped}, indent=2)
        write_json(args.json, report + "\n")
        if args.json != "-":
            print(f"written: {args.json}", file=sys.stderr)
    return 0
