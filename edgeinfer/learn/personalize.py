"""personalize(): a base model and a folder of labelled samples in, one new
model file out — the base's trunk with a head trained on its embeddings of
the samples, its labels, the base's preprocessing, and how it was made.

    base.onnx + DATA/<label>/*  ->  Embedder (trunk)  ->  embeddings
        ->  head fitted on most, checked on a held-out part, refitted on all
        ->  trunk + head + Softmax  ->  checked on a backend  ->  out.onnx (atomically)
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, replace

import numpy as np

from ..errors import UserError
from ..metadata import write_info
from ..sinks.output_files import atomic_write
from .embed import Embedder
from .heads import HEADS, AddedClassesHead, SoftmaxHead, accuracy
from .onnx_head import OUTPUT, join
from .samples import (augmented, augmented_window, list_samples, read_image_sample,
                      read_window_sample)


@dataclass
class Personalized:
    """What personalize() made: the file, its classes and the head's held-out accuracy."""
    path: str
    labels: list
    head: object
    samples_per_class: dict
    validation_accuracy: object     # None when no class had samples to hold out
    metadata: dict


# held-out samples per class from which their loss chooses when training
# stops; on fewer it is noise (BasicMotions, 1 held out of 5 windows per
# class: stopped after 2 to 45 iterations, 82 % where training to the weight
# decay's optimum gives 87 %; MNIST at 10 shots: 82 % against 83 %), so the
# head is trained to that optimum and the held-out part only measures it
STOP_EARLY_FROM = 10


def _split(labels, fraction, rng):
    """Indices of a stratified held-out part: a `fraction` of each class with
    at least three samples (never its last two)."""
    held = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        count = min(int(round(len(members) * fraction)), len(members) - 2)
        if len(members) >= 3 and fraction > 0:
            held.extend(rng.permutation(members)[:max(1, count)])
    mask = np.zeros(len(labels), bool)
    mask[np.asarray(held, np.int64)] = True
    return mask


def _classes(embedder, files, add):
    """All class names and each sample's index among them."""
    if not add:
        if len(files.classes) < 2:
            raise UserError(f"data folder {files.root} has one class ({files.classes[0]}): a "
                            "classifier needs at least two class folders, or --add to join "
                            "the base model's classes")
        return list(files.classes), files.labels
    layer = embedder.cut.last_layer
    if layer is None:
        raise UserError(f"--add starts from {embedder.path}'s last layer, but the embedding "
                        f"was cut at {embedder.cut.tensor!r}, which does not feed it: leave out "
                        "--cut")
    old = layer.weights.shape[1]
    base = list(embedder.info.labels) or [f"class {i}" for i in range(old)]
    names = base + [name for name in files.classes if name not in base]
    if len(names) == len(base):
        raise UserError(f"every class folder in {files.root} is one of the base model's classes: "
                        "--add needs a new one (or leave out --add to train a new head)")
    return names, np.asarray([names.index(files.classes[i]) for i in files.labels], np.int64)


def _read(embedder, path):
    if embedder.is_image:
        return read_image_sample(path)
    return read_window_sample(path, embedder.model.info.sensor)


def personalize(base, data, out, head="softmax", *, add=False, cut=None, backend="auto",
                threads=None, augment=0, seed=0, validation=0.2, weight_decay=1e-2,
                batch=32, progress=None, step=None):
    """Trains a new head on base's embeddings of the samples in data (a folder
    per class) and writes trunk + head as one ONNX file at out.

    head: "softmax" (logistic regression), "knn" (1-nearest neighbour, cosine)
    or "ncm" (nearest class mean). add: keep the base model's classes (its last
    layer, unchanged) and append data's new ones. cut: the tensor to take as the
    embedding. augment: extra seeded variations per sample (images: mirror,
    crop, brightness; sensor windows: stretch, gain, noise). validation: the
    fraction of each class held out to measure accuracy (and, when it holds
    STOP_EARLY_FROM or more per class, to choose when training stops).
    progress(done, total) follows the embedding; step(text) is told of the
    other stages.
    Raises UserError (one line) before writing anything when an input is unusable.
    """
    if head not in HEADS:
        raise UserError(f"unknown head {head!r}: choose one of {', '.join(HEADS)}")
    if add and head != "softmax":
        raise UserError("--add extends the base model's softmax layer: use --head softmax")
    if os.path.isdir(out):
        raise UserError(f"output {out} is a folder: give the .onnx file to write")
    if os.path.exists(out) and os.path.samefile(out, base):
        raise UserError(f"output {out} is the base model: write the new model to another file")
    embedder = Embedder(base, cut=cut, backend=backend, threads=threads)
    files = list_samples(data, "image" if embedder.is_image else "sensor")
    names, labels = _classes(embedder, files, add)
    init, alone = None, False
    if add:
        layer = embedder.cut.last_layer
        init = (layer.weights, layer.bias)
        # with samples of base classes too, the new rows are learnt against
        # them; with the new classes' samples alone, each claims what resembles them
        alone = not np.any(labels < layer.weights.shape[1])
        if alone:
            _check_enough_to_stand_alone(names, labels, layer.weights.shape[1], files)
    samples = [_read(embedder, path) for path in files.paths]
    rng = np.random.default_rng(seed)
    held = _split(labels, validation, rng)
    copies = int(augment)
    vary = augmented if embedder.is_image else augmented_window
    extra = [vary(s, rng) for s in samples for _ in range(copies)]
    embeddings = embedder.embed(samples + extra, batch=batch, progress=progress)
    original, varied = embeddings[:len(samples)], embeddings[len(samples):]
    varied_labels = np.repeat(labels, copies)
    varied_held = np.repeat(held, copies)

    def make():
        if alone:
            return AddedClassesHead(init)
        if head == "softmax":
            return SoftmaxHead(weight_decay=weight_decay, init=init)
        return HEADS[head]()

    if step is not None:
        step(f"training the {head} head on {len(embeddings)} embeddings")
    train_x = np.concatenate([original[~held], varied[~varied_held]])
    train_y = np.concatenate([labels[~held], varied_labels[~varied_held]])
    _check_every_class_taught(names, train_y, add, embedder, files)
    val_accuracy = None
    final = make()
    if held.any():
        stop_early = head == "softmax" and not alone and \
            held.sum() >= STOP_EARLY_FROM * len(np.unique(labels))
        watched = (original[held], labels[held]) if stop_early else ()
        trial = make().fit(train_x, train_y, len(names), *watched)
        val_accuracy = accuracy(trial, original[held], labels[held])
        if stop_early:
            final = SoftmaxHead(**trial.refit_kwargs())
    all_x, all_y = np.concatenate([original, varied]), np.concatenate([labels, varied_labels])
    final.fit(all_x, all_y, len(names))

    model = join(embedder.trunk, final, len(names))
    made = {
        "base_model": os.path.basename(embedder.path),
        "embedding": embedder.cut.tensor,
        "embedding_size": int(embeddings.shape[1]),
        "head": final.kind,
        "added_to_base": bool(add),
        "samples_per_class": {name: int(np.sum(labels == i)) for i, name in enumerate(names)
                              if np.sum(labels == i)},
        "augmented_copies": copies,
        "validation_samples": int(held.sum()),
        "validation_accuracy": val_accuracy,
        "seed": int(seed),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if final.kind == "softmax":
        made.update(weight_decay=weight_decay, iterations=final.iterations)
    info = replace(embedder.model.info, labels=names, output="probabilities",
                   output_name=OUTPUT, personalization=made,
                   source=dict(embedder.info.source, personalized_from=embedder.path),
                   verification={})
    write_info(model, info)
    data_bytes = model.SerializeToString()
    if step is not None:
        step("checking the new model runs")
    _check_runs(data_bytes, embedder, samples[:4], final, backend, threads)
    atomic_write(out, lambda f: f.write(data_bytes))
    return Personalized(out, names, final, made["samples_per_class"], val_accuracy, made)


def _check_every_class_taught(names, train_y, add, embedder, files):
    taught = set(train_y.tolist())
    first_new = embedder.cut.last_layer.weights.shape[1] if add else 0
    for index in range(first_new, len(names)):
        if index not in taught:
            raise UserError(f"class {names[index]} has no samples in {files.root}")


def _check_enough_to_stand_alone(names, labels, first_new, files):
    for index in range(first_new, len(names)):
        if np.sum(labels == index) < 2:
            raise UserError(f"class {names[index]} has one sample in {files.root}: a class added "
                            "without samples of the base model's classes is learnt from how "
                            "its samples spread, so give it at least 2 (5 or more is better)")


def _check_runs(model_bytes, embedder, samples, head, backend, threads):
    """The joined file loads and gives the head's scores, before it is written."""
    from .. import backends

    engine = backends.open_backend(model_bytes, backend, threads)
    tensor = embedder.model.new_input(1)
    for sample in samples:
        embedder.model.prepare(sample, out=tensor)
        got = engine.run({embedder.model.input.name: tensor})[0]
        want = head.scores(embedder.embed_tensor(tensor))
        if not np.allclose(got, want, atol=1e-3):
            raise AssertionError(f"the written head disagrees with the trained one by "
                                 f"{np.max(np.abs(got - want)):.2g}")
