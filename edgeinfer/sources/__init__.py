"""Where frames come from: cameras, Pi cameras, video files, network streams,
image files. Every source is opened (and fails, with a clear message) when it is
made, then delivers Frames through read(timeout) from a thread of its own, so
decoding overlaps inference:

    source = open_video("clip.mp4")
    while not source.finished:
        frame = source.read(timeout=0.1)   # a Frame, or None when none is ready yet
    source.close()

Live sources (cameras, streams, --realtime files) keep only the newest frame
and count the ones they drop; file sources deliver every frame, in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class Frame:
    image: np.ndarray               # H x W x 3 uint8, BGR (as OpenCV delivers)
    index: int                      # the source's count of frames read, from 0
    captured: float                 # time.monotonic() when it was read off the device or file
    wall_time: float                # time.time() at the same moment
    position: Optional[float] = None  # seconds into a video file
    path: Optional[str] = None        # the image file it came from
    span: Optional[tuple] = None      # a sensor window's first and last sample times


from .camera import open_camera, open_picam  # noqa: E402
from .images import open_images  # noqa: E402
from .video import open_stream, open_video  # noqa: E402

__all__ = ["Frame", "open_camera", "open_picam", "open_images", "open_stream", "open_video"]
