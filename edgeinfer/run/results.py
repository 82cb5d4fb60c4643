"""One classified frame, as every sink receives it."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Optional

STAGES = ("wait", "preprocess", "inference", "postprocess")


@dataclass
class Result:
    frame: int                    # the source's index of the frame
    predictions: list             # [Prediction], best first; empty when all fell below threshold
    captured_at: float            # time.time() when the frame was read off the source
    result_at: float              # time.time() when its predictions were ready
    timings_ms: dict = field(default_factory=dict)  # STAGES and "latency" (capture to result)
    position: Optional[float] = None  # seconds into a video file
    path: Optional[str] = None        # the image file
    span: Optional[tuple] = None      # a sensor window's first and last sample times

    @property
    def top(self):
        return self.predictions[0] if self.predictions else None

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
        top = self.top
        record = {"frame": self.frame}
        if self.path is not None:
            record["file"] = self.path
        if self.position is not None:
            record["position_s"] = round(self.position, 4)
        if self.span is not None:
            record["first_sample_time"], record["last_sample_time"] = self.span
        record.update({
            "label": top.label if top else None,
            "score": round(top.score, 6) if top else None,
            "top": [{"label": p.label, "index": p.index, "score": round(p.score, 6)}
                    for p in self.predictions],
            "captured_at": round(self.captured_at, 6),
            "result_at": round(self.result_at, 6),
            "latency_ms": {name: round(value, 3) for name, value in self.timings_ms.items()},
        })
        return record
