"""One classified frame or sensor window, as every sink receives it: what each
model said about it, and where the time went."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

from ..sensor.window import SensorWindow

STAGES = ("wait", "preprocess", "inference", "postprocess")
MODEL_STAGES = ("preprocess", "inference", "postprocess")


@dataclass
class ModelResult:
    """One model's answer for one item."""
    model: str                    # the model's name in the run (its file name without .onnx)
    predictions: list             # [Prediction], best first; empty when all fell below threshold
    timings_ms: dict = field(default_factory=dict)  # MODEL_STAGES for this model

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
    timings_ms: dict = field(default_factory=dict)  # STAGES summed over the models, and
    #                                                 "latency" (capture to the last result)
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
                 "latency_ms": {name: round(value, 3) for name, value in result.timings_ms.items()}}
                for result in self.models]
        record.update({
            "captured_at": round(self.captured_at, 6),
            "result_at": round(self.result_at, 6),
            "latency_ms": {name: round(value, 3) for name, value in self.timings_ms.items()},
        })
        return record
