"""The Ray Data path of `eval --ray` and `run --image ... --ray`, for
collections too big for one device: a Dataset of the samples (one row per
file or window), classified in map_batches by a pool of actors that each
load the models once, then gathered back into test-set order. Each sample is
read and classified by the same code as the local run (one at a time, the
same readers and decoder), so the answers are the same; only the timings
differ, being measured in the actors.

Imported only when --ray is given: a local run never imports Ray.
"""
from __future__ import annotations

import os
import time

import numpy as np

from ..errors import UserError

ACTORS = 2          # actors in the pool; each takes one CPU
BATCH = 16          # samples per map_batches call


def _ray():
    try:
        import ray
    except ImportError:
        raise UserError("--ray needs Ray: pip install '.[ray]' in the edgeinfer checkout") \
            from None
    return ray


def connect(address):
    """Joins the Ray instance this process already runs, the cluster at
    ADDRESS, or for `auto` a running cluster or else a new local instance."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    try:
        if address == "auto":
            try:
                ray.init(address="auto", include_dashboard=False, log_to_driver=False)
            except ConnectionError:
                ray.init(include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"cannot join the Ray cluster at {address} ({first}): start it "
                        "(`ray start --head`) or use --ray auto") from None
    return ray


def _quiet_progress(ray):
    # Ray Data's progress lines would bury the results on the terminal
    import logging

    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def _gather(dataset):
    """The dataset's rows in sample order."""
    return sorted(dataset.iter_rows(), key=lambda r: int(r["index"]))


def _pool(ray):
    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(1, min(ACTORS, cpus))


def _item_rows(items):
    return [{"index": i, "path": item[0] if isinstance(item, tuple) else item,
             "start": item[1] if isinstance(item, tuple) else -1}
            for i, item in enumerate(items)]


class _EvalActor:
    """Opens every scorer once; answers a batch of test-set rows."""

    def __init__(self, specs, backend, threads, label_column):
        from .evaluate import open_scorers, readers_for

        self.scorers = open_scorers(specs, backend, threads)
        self.readers = readers_for(self.scorers, label_column)

    def __call__(self, batch):
        from .evaluate import classify_items

        items = [str(p) if s < 0 else (str(p), int(s))
                 for p, s in zip(batch["path"], batch["start"])]
        rows, errors = [], []
        for item in items:
            # a sample the user must fix comes back as data: raised here, Ray
            # would hand the driver only a traceback in text
            try:
                rows += classify_items(self.scorers, self.readers, [item])
                errors.append("")
            except UserError as error:
                rows.append([("", 0.0, 0.0)] * len(self.scorers))
                errors.append(str(error))
        out = {"index": np.asarray(batch["index"]), "error": np.asarray(errors, object)}
        for k in range(len(self.scorers)):
            out[f"label{k}"] = np.asarray([r[k][0] for r in rows], object)
            out[f"score{k}"] = np.asarray([r[k][1] for r in rows], np.float64)
            out[f"ms{k}"] = np.asarray([r[k][2] for r in rows], np.float64)
        return out


def evaluate_on_ray(address, specs, scorers, test_set, backend="auto", threads=None,
                    label_column=None):
    """The same Outcomes as evaluate_locally, classified by Ray actors."""
    from .evaluate import outcomes_from_rows

    ray = connect(address)
    _quiet_progress(ray)
    rows = _item_rows(test_set.items)
    dataset = ray.data.from_items(rows).map_batches(
        _EvalActor, fn_constructor_args=(specs, backend, threads or 1, label_column),
        batch_size=BATCH, compute=ray.data.ActorPoolStrategy(size=_pool(ray)), num_cpus=1,
        batch_format="numpy")
    answers = _gather(dataset)
    if len(answers) != len(rows):
        raise UserError(f"the Ray run gave {len(answers)} answers for {len(rows)} samples")
    for answer in answers:
        if answer["error"]:
            raise UserError(str(answer["error"]))
    table = [[(str(a[f"label{k}"]), float(a[f"score{k}"]), float(a[f"ms{k}"]))
              for k in range(len(scorers))] for a in answers]
    return outcomes_from_rows(scorers, table)


class _RunActor:
    """`run`'s model and postprocessing, once per actor; classifies image files."""

    def __init__(self, model_path, backend, threads, labels, output_name, top_k, threshold):
        from ..model import load
        from ..run.postprocess import Postprocessor

        self.model = load(model_path, backend=backend, threads=threads, labels=labels,
                          output_name=output_name)
        self.post = Postprocessor.for_model(self.model, top_k, threshold)
        self.tensor = self.model.new_input(1)

    def __call__(self, batch):
        from ..media import UnreadableImage, read_image

        out = {"index": np.asarray(batch["index"]), "skipped": [], "top": [], "times": []}
        for path in batch["path"]:
            captured, wall = time.monotonic(), time.time()
            try:
                image = read_image(str(path))
            except UnreadableImage as error:
                out["skipped"].append(f"it {error.reason}")
                out["top"].append([])
                out["times"].append([wall, wall, 0.0, 0.0, 0.0, 0.0, 0.0])
                continue
            started = time.monotonic()
            self.model.prepare(np.ascontiguousarray(image), out=self.tensor)
            prepared = time.monotonic()
            raw = self.model.run(self.tensor)
            inferred = time.monotonic()
            predictions = self.post(raw)
            done = time.monotonic()
            out["skipped"].append("")
            out["top"].append([(p.label, p.index, p.score) for p in predictions])
            out["times"].append([wall, wall + (done - captured), (started - captured) * 1e3,
                                 (prepared - started) * 1e3, (inferred - prepared) * 1e3,
                                 (done - inferred) * 1e3, (done - captured) * 1e3])
        return {"index": out["index"], "skipped": np.asarray(out["skipped"], object),
                "top": np.asarray([repr(t) for t in out["top"]], object),
                "times": np.asarray(out["times"], np.float64)}


def classify_images_on_ray(address, paths, model_path, backend, threads, labels, output_name,
                           top_k, threshold):
    """Results (as run's Pipeline makes them, in file order) for image files,
    and the number skipped as unreadable; each skipped file is logged."""
    import ast
    import logging

    from ..run.postprocess import Prediction
    from ..run.results import MODEL_STAGES, ModelResult, Result

    log = logging.getLogger("edgeinfer")
    name = os.path.splitext(os.path.basename(model_path))[0]  # as a local run names it
    ray = connect(address)
    _quiet_progress(ray)
    rows = [{"index": i, "path": p} for i, p in enumerate(paths)]
    dataset = ray.data.from_items(rows).map_batches(
        _RunActor, fn_constructor_args=(model_path, backend, threads or 1, labels, output_name,
                                        top_k, threshold),
        batch_size=BATCH, compute=ray.data.ActorPoolStrategy(size=_pool(ray)), num_cpus=1,
        batch_format="numpy")
    answers = _gather(dataset)
    results, skipped = [], 0
    for answer in answers:
        path = paths[int(answer["index"])]
        if answer["skipped"]:
            skipped += 1
            log.warning(f"skipping {path}: {answer['skipped']}")
            continue
        wall, result_at, *ms = (float(v) for v in answer["times"])
        predictions = [Prediction(label, index, score)
                       for label, index, score in ast.literal_eval(str(answer["top"]))]
        # the actor's read time is neither queue nor latency: the model's share only
        stages = dict(zip(MODEL_STAGES, ms[1:4]))
        timings = {"model": sum(stages.values()), **stages}
        answer = ModelResult(name, predictions, timings)
        results.append(Result(len(results), [answer], wall, result_at, timings, path=path))
    return results, skipped
