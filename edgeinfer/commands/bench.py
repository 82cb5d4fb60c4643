"""`edgeinfer bench MODEL`: latency percentiles, throughput and peak memory of a
model per backend and thread count, preprocessing and inference apart, side by
side, with the machine it ran on."""
import json
import os
import sys

from .. import backends
from .benchmarking import machine_info, measure_isolated, with_ratios
from ..errors import UserError
from ..model import load
from ..sinks.output_files import atomic_write


def add_arguments(parser):
    parser.add_argument("model", help="the .onnx model to measure")
    parser.add_argument("--backend", default="auto",
                        help="a backend name, 'auto' (the best installed) or 'all'")
    parser.add_argument("--threads", default=None,
                        help="inference threads: N, 'all' (1, 2, 4 ... up to the cores), "
                             "default: the backend's")
    parser.add_argument("--runs", type=int, default=50, help="measured runs (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="runs before measuring (default 5)")
    parser.add_argument("--batch", type=int, default=1, help="frames per run (default 1)")
    parser.add_argument("--image", default=None,
                        help="the frame to feed (default: the bundled sample photo)")
    parser.add_argument("--json", default=None, metavar="OUT.json",
                        help="write every figure and the machine to this file")
    parser.add_argument("--profile", action="store_true",
                        help="per-operator times (backends that report them: native)")


def _backends(choice):
    available = [name for name, (ok, _) in backends.availability().items() if ok]
    if choice == "all":
        if not available:
            raise UserError("no inference backend is installed: pip install onnxruntime")
        return available
    if choice == "auto":
        return [backends.resolve("auto")[0]]
    if choice not in backends.BACKENDS:
        raise UserError(f"unknown backend {choice!r}: choose auto, all or one of "
                        f"{', '.join(backends.BACKENDS)}")
    if choice not in available:
        raise UserError(f"backend {choice} is not available here: "
                        f"{backends.availability()[choice][1]}")
    return [choice]


def _thread_counts(choice):
    if choice is None:
        return [None]
    if choice == "all":
        counts, n = [], 1
        while n < (os.cpu_count() or 1):
            counts.append(n)
            n *= 2
        return counts + [os.cpu_count() or 1]
    try:
        count = int(choice)
    except ValueError:
        count = 0
    if count < 1:
        raise UserError(f"--threads takes a positive number or 'all', got {choice!r}")
    return [count]


def _check(args):
    for flag, value, least in (("--runs", args.runs, 1), ("--warmup", args.warmup, 0),
                               ("--batch", args.batch, 1)):
        if value < least:
            raise UserError(f"{flag} must be at least {least}, got {value}")
    if args.image and not os.path.isfile(args.image):
        raise UserError(f"image {args.image} does not exist")
    load(args.model, backend="auto" if args.backend == "all" else args.backend)  # fails fast


def format_rows(rows):
    head = (f"{'backend':12} {'thr':>4} {'batch':>5} {'p50':>8} {'p90':>8} {'p99':>8} "
            f"{'min':>8} {'max':>8} {'std':>7} {'pre p50':>8} {'inf p50':>8} {'items/s':>8} "
            f"{'peak MB':>8} {'vs best':>7}")
    lines = [head, "-" * len(head)]
    for row in rows:
        t = row["total_ms"]
        lines.append(
            f"{row['backend']:12} {row['threads'] or 'def':>4} {row['batch']:5d} {t['p50']:8.2f} "
            f"{t['p90']:8.2f} {t['p99']:8.2f} {t['min']:8.2f} {t['max']:8.2f} {t['std']:7.2f} "
            f"{row['preprocess_ms']['p50']:8.2f} {row['inference_ms']['p50']:8.2f} "
            f"{row['throughput_per_s']:8.1f} {row['peak_rss_mb']:8.1f} "
            f"{row['ratio_to_fastest']:6.2f}x")
    return "\n".join(lines)


def format_profile(profile):
    lines = [f"  {'operator':24} {'calls':>6} {'ms':>9} {'share':>6}"]
    total = sum(entry["ms"] for entry in profile) or 1.0
    for entry in sorted(profile, key=lambda e: -e["ms"]):
        lines.append(f"  {entry['op']:24} {entry['calls']:6d} {entry['ms']:9.3f} "
                     f"{100 * entry['ms'] / total:5.1f}%")
    return "\n".join(lines)


def run(args):
    _check(args)
    rows = []
    for backend in _backends(args.backend):
        for threads in _thread_counts(args.threads):
            rows.append(measure_isolated(args.model, backend, threads, args.runs, args.warmup,
                                         args.batch, args.image, args.profile))
    with_ratios(rows)
    machine = machine_info()
    core = machine["core"]
    print(f"{args.model} on {machine['cpu']} ({machine['cores']} cores, {machine['machine']}); "
          f"edgeinfer core: {core['simd_active']} SIMD, OpenMP {'on' if core['openmp'] else 'off'}")
    print(", ".join(f"{name} {version}" for name, version in machine["versions"].items()))
    print(f"times in ms per run of {args.batch} frame(s): preprocessing + inference, "
          f"{args.runs} runs after {args.warmup} warm-up")
    print(format_rows(rows))
    if args.profile:
        for row in rows:
            if row.get("profile"):
                print(f"per operator, {row['backend']} ({row['threads'] or 'default'} threads):")
                print(format_profile(row["profile"]))
            else:
                print(f"{row['backend']}: no per-operator times (use --backend native)")
    if args.json:
        report = {"model": args.model, "machine": machine, "rows": rows}
        atomic_write(args.json, lambda f: f.write(json.dumps(report, indent=2).encode()))
        print(f"written: {args.json}", file=sys.stderr)
    return 0
