"""One classified frame or sensor window, as every sink receives it: what each
model said about it, and where the time went."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

from ..sensor.window import SensorWindow

MODEL_STAGES = ("preprocess", "inference", "postprocess")
# A result's timings: "model" (its MODEL_STAGES summed: the latency of the model
# itself, the figure people compare) and the stages; then, for a live source,
# "wait" (the age of the newest frame when taken) and "end_to_end" (capture to
# result), or for a file, "queued": its time in the read-ahead queue, which
# depends on how far ahead the reader got and is no part of any latency.
LIVE_TIMES = ("wait", "end_to_end")
FILE_TIMES = ("queued",)
TIMES = ("model",) + MODEL_STAGES + LIVE_TIMES + FILE_TIMES


@dataclass
class ModelResult:
    """One model's answer for one item."""
    model: str                    # the model's name in the run (its file name without .onnx)
    predictions: list             # [Prediction], best first; empty when all fell below threshold
    timings_ms: dict = field(default_factory=dict)  # "model" and MODEL_STAGES for this model

    @property
    def top(self):
        return self.predictions[0] if self.predictions else None

    def record(self):
        """label, score and top-k for a JSON record."""
        top = self.top
        return {"label": top.label if top else None,
                "score": round(top.score, 6) if top else None,
                "top": [{"label": p.label, "index": p.index, "score": round(p.score, 6)}
                        for p in self.predictions]}


@dataclass
class Result:
    frame: int                    # the source's index of the frame or window
    models: list                  # [ModelResult], one per model, in the order they were given
    captured_at: float            # time.time() when the item was read off the source
    result_at: float              # time.time() when every model's predictions were ready
    timings_ms: dict = field(default_factory=dict)  # TIMES (model stages summed over the
    #                                                 models), live or file ones as it came
    position: Optional[float] = None  # seconds into a video file
    path: Optional[str] = None        # the image file
    span: Optional[tuple] = None      # a sensor window's first and last sample times

    @classmethod
    def of(cls, item, models, result_at, timings_ms):
        """The Result for a Frame or a SensorWindow, carrying where it came from."""
        if isinstance(item, SensorWindow):
            where = {"span": (item.first_time, item.last_time)}
        else:
            where = {"position": item.position, "path": item.path}
        return cls(item.index, models, item.wall_time, result_at, timings_ms, **where)

    @property
    def predictions(self):
        """The first model's predictions (the only model's, in a run of one)."""
        return self.models[0].predictions

    @property
    def top(self):
        return self.models[0].top

    @property
    def where(self):
        """Which frame this is, for people: the image's file name, the video time, or the index."""
        if self.path:
            return os.path.basename(self.path)
        if self.span is not None and self.span[0] is not None:
            return f"t {self.span[0]:.2f}..{self.span[1]:.2f}"
        if self.position is not None:
            return f"{self.position:7.2f}s"
        return f"frame {self.frame}"

    def to_dict(self):
        """The JSON record: with one model its label, score and top-k at the top
        level; with several, a "models" list of those, each named and timed."""
        record = {"frame": self.frame}
        if self.path is not None:
            record["file"] = self.path
        if self.position is not None:
            record["position_s"] = round(self.position, 4)
        if self.span is not None:
            record["first_sample_time"], record["last_sample_time"] = self.span
        if len(self.models) == 1:
            record.update(self.models[0].record())
        else:
            record["models"] = [
                {"model": result.model, **result.record(),
                 "latency_ms": _rounded(result.timings_ms)}
                for result in self.models]
        latency = {name: value for name, value in self.timings_ms.items() if name != "queued"}
        record.update({
            "captured_at": round(self.captured_at, 6),
            "result_at": round(self.result_at, 6),
            "latency_ms": _rounded(latency),
        })
        if "queued" in self.timings_ms:  # apart: waiting in a queue is not the model's latency
            record["queued_ms"] = round(self.timings_ms["queued"], 3)
        return record


def _rounded(timings):
    return {name: round(value, 3) for name, value in timings.items()}
