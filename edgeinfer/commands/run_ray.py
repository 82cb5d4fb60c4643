"""`edgeinfer run --image ... --ray auto|ADDRESS`: the image files classified
by Ray actors (learn/ray_eval.py), their results written in file order
through the same sinks as a local run, so the JSON lines and CSV rows match
the local run's except for the timing fields (captured_at, result_at,
latency_ms, and the local run's queued_ms), which are measured in the actors."""
from __future__ import annotations

import sys

import numpy as np

from ..errors import SourceError, UserError
from ..run.run_stats import counted
from ..sources.images import expand

PROG = "edgeinfer run"


def run_on_ray(args, model, open_sinks):
    if not args.image:
        raise UserError("--ray classifies image files: give them with --image FILE|DIR|GLOB "
                        "(cameras, videos, streams and sensors run locally)")
    if args.show or args.save_video or args.save or args.device or args.every != 1 or \
            args.max_frames is not None:
        raise UserError("--ray writes results only, on the actors' CPUs: leave out --show, "
                        "--save-video, --save, --device, --every and --max-frames")
    try:
        paths = expand(args.image)
    except SourceError as error:
        raise UserError(str(error)) from None
    from ..learn.ray_eval import classify_images_on_ray

    results, skipped = classify_images_on_ray(
        args.ray, paths, model.path, args.backend, args.threads, model.labels, args.output,
        args.top_k, args.threshold)
    sinks = open_sinks(args, None)
    try:
        for result in results:
            for sink in sinks:
                sink.write(None, result)
    finally:
        for sink in sinks:
            sink.close()
    latency = [r.timings_ms["model"] for r in results]
    timing = (f"; model latency mean {np.mean(latency):.1f} ms, p90 "
              f"{np.percentile(latency, 90):.1f} ms in the actors") if latency else ""
    written = [p for p in (args.json, args.csv) if p and p != "-"]
    # a sink that delivers elsewhere (MQTT) says what arrived, as a local run's summary does
    reports = [f"\n  {sink.report()}" for sink in sinks if hasattr(sink, "report")]
    print(f"{PROG}: {counted(len(results), 'image')} classified on Ray"
          f"{f', {skipped} skipped' if skipped else ''}{timing}"
          f"{'; written: ' + ', '.join(written) if written else ''}{''.join(reports)}",
          file=sys.stderr)
    if not results:
        raise UserError(f"nothing was classified: none of the {len(paths)} files could be read")
    return 0
