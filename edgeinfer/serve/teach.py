"""Teaching the served models new classes from the live video, as `edgeinfer
collect` and `edgeinfer personalize` do from the command line:

    POST /api/teach/samples  ->  the next N live frames  ->  DATA/<label>/0001.png ...
    POST /api/teach/train    ->  personalize(first model, DATA) on a thread of its own
        ->  DATA/personal-<head>.onnx (atomically)  ->  loaded, and added beside the
            served models (or put in place of the one of that name): the live run
            and /api/predict use it from their next item on, with no restart

The data folder is the server's (--teach-dir), never a path from a request.
A recording takes frames as the live run passes them (the FrameTap sink) and
saves them on the request's thread, so the run never waits for a disk."""
from __future__ import annotations

import os
import threading
import time

from ..errors import UserError
from ..learn.collect import ClassFolder, check_label
from ..learn.heads import HEADS
from ..learn.personalize import personalize
from ..learn.samples import list_samples
from ..run.classifier import model_name

MAX_COUNT = 100            # frames one request may record
RECORD_SECONDS = 30.0      # the longest a recording waits for its frames
PERSONAL = "personal-{head}.onnx"


class TeachError(Exception):
    """A request the teacher refuses: its HTTP status and one line."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Recording:
    def __init__(self, count):
        self.count, self.frames = count, []
        self.done = threading.Event()

    def take(self, image):
        self.frames.append(image.copy())   # the source may reuse its buffer
        if len(self.frames) >= self.count:
            self.done.set()


class FrameTap:
    """The live run's sink that hands frames to the recordings waiting for them."""

    def __init__(self):
        self.recordings = []
        self._lock = threading.Lock()
        self.ended = threading.Event()

    def wait_for(self, count, seconds=RECORD_SECONDS):
        """The next `count` live frames (fewer if the source ends or time runs out)."""
        recording = Recording(count)
        with self._lock:
            self.recordings.append(recording)
        deadline = time.monotonic() + seconds
        while not recording.done.wait(0.1):
            if self.ended.is_set() or time.monotonic() > deadline:
                break
        with self._lock:
            if recording in self.recordings:
                self.recordings.remove(recording)
        return recording.frames[:count]

    def write(self, item, result):
        image = getattr(item, "image", None)
        if image is not None and self.recordings:
            with self._lock:
                for recording in list(self.recordings):
                    recording.take(image)
                    if recording.done.is_set():
                        self.recordings.remove(recording)
        return True

    def close(self):
        self.ended.set()


class Teacher:
    def __init__(self, folder, predictor, load, live_classifiers=None):
        """folder: the data folder (made on first use); predictor: the served
        models (the first is the base); load(path): a Model; live_classifiers:
        the live run's list-holder (its pipeline), whose classifiers the new
        model joins."""
        self.folder = os.path.abspath(folder)
        self.predictor, self.load = predictor, load
        self.pipeline = live_classifiers
        self.tap = FrameTap()
        self.base = predictor.models[0].path
        self.recorded = {}          # label -> paths this server saved
        self.training = None        # {"head", "done", "total"} while one runs
        self.last = None            # the last training's outcome
        self._lock = threading.Lock()
        # one recording at a time: each holds up to MAX_COUNT frames and a worker thread
        self._recording = threading.Lock()

    # -- samples ---------------------------------------------------------------------------

    def counts(self):
        """Samples per label in the data folder, as personalize will see them."""
        if not os.path.isdir(self.folder):
            return {}
        try:
            return list_samples(self.folder, "image").counts()
        except UserError:   # an empty class folder: count what there is
            return {name: len(os.listdir(os.path.join(self.folder, name)))
                    for name in sorted(os.listdir(self.folder))
                    if os.path.isdir(os.path.join(self.folder, name))
                    and not name.startswith(".")}

    def status(self):
        training = self.training   # read once: the training thread may end it meanwhile
        return {"folder": self.folder, "base": model_name(self.base),
                "labels": self.counts(),
                "recorded": {label: len(paths) for label, paths in list(self.recorded.items())
                             if paths},
                "training": dict(training) if training else None,
                "last": self.last}

    def record(self, label, count):
        """Saves the next `count` live frames into DATA/label/; the file names saved."""
        label = _label(label)
        if not 1 <= count <= MAX_COUNT:
            raise TeachError(400, f"count is 1..{MAX_COUNT}, got {count}")
        if self.tap.ended.is_set():
            raise TeachError(409, "the live source has ended: there are no frames to record")
        if not self._recording.acquire(blocking=False):
            raise TeachError(409, "a recording is under way: wait for it to finish, then "
                                  "record again")
        try:
            return self._record(label, count)
        finally:
            self._recording.release()

    def _record(self, label, count):
        frames = self.tap.wait_for(count)
        if not frames:
            raise TeachError(409, "no live frame came: the source has ended or stalled")
        try:
            folder = ClassFolder(self.folder, label)
        except UserError as refused:
            raise TeachError(400, str(refused)) from None
        try:
            for image in frames:
                folder.save_image(image)
        finally:
            with self._lock:
                self.recorded.setdefault(label, []).extend(folder.saved)
        return [os.path.basename(path) for path in folder.saved]

    def forget(self, label):
        """Removes the samples of label this server recorded (never the ones that
        were there before it started); the number removed."""
        label = _label(label)
        with self._lock:
            paths = self.recorded.pop(label, [])
        for path in paths:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
        folder = os.path.join(self.folder, label)
        if os.path.isdir(folder) and not os.listdir(folder):
            os.rmdir(folder)   # an empty class folder would stop personalize
        return len(paths)

    # -- training --------------------------------------------------------------------------

    def train(self, head):
        """Starts training a `head` on the data folder; refused at once when one
        runs or the data cannot make a classifier."""
        if head not in HEADS:
            raise TeachError(400, f"unknown head {head!r}: choose one of {', '.join(HEADS)}")
        counts = self.counts()
        if len(counts) < 2 or min(counts.values()) < 1:
            have = ", ".join(f"{label}: {n}" for label, n in counts.items()) or "none"
            raise TeachError(400, "not enough samples to train: record at least one frame for "
                                  f"each of two labels (have {have})")
        with self._lock:
            if self.training is not None:
                raise TeachError(409, f"a {self.training['head']} head is being trained: wait "
                                      "for it to finish (GET /api/teach)")
            training = {"head": head, "done": 0, "total": sum(counts.values())}
            self.training = training
            # copied here: once the thread starts it may end and clear self.training
            started = dict(training)
        threading.Thread(target=self._train, args=(head,), name="edgeinfer-teach",
                         daemon=True).start()
        return started

    def _train(self, head):
        out = os.path.join(self.folder, PERSONAL.format(head=head))
        started = time.monotonic()
        try:
            made = personalize(self.base, self.folder, out, head=head,
                               progress=self._progress)
            name = self._swap_in(self.load(out))
            self.last = {"ok": True, "model": name, "head": head, "file": out,
                         "labels": made.labels, "samples_per_class": made.samples_per_class,
                         "validation_accuracy": made.validation_accuracy,
                         "seconds": round(time.monotonic() - started, 2)}
        except Exception as failed:   # the page shows it; the server goes on
            text = str(failed).splitlines()[0] if str(failed) else type(failed).__name__
            self.last = {"ok": False, "head": head, "error": text}
        finally:
            with self._lock:
                self.training = None

    def _progress(self, done, total):
        training = self.training
        if training is not None:
            training.update(done=int(done), total=int(total))

    def _swap_in(self, model):
        """The new model beside the served ones (in place of one from the same file):
        posted images and the live run's next item use it."""
        index = self.predictor.put(model, model_name(model.path))
        if self.pipeline is not None:
            classifiers = list(self.pipeline.classifiers)
            classifier = self.predictor.live_classifier(index)
            if index < len(classifiers):
                classifiers[index] = classifier
            else:
                classifiers.append(classifier)
            self.pipeline.classifiers = classifiers   # one assignment: the run sees old or new
        return self.predictor.names[index]


def _label(label):
    try:
        return check_label(label or "")
    except UserError as refused:
        raise TeachError(400, str(refused)) from None
