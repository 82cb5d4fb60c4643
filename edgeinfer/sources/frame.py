"""What an image source delivers: one frame and where it came from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class Frame:
    """One picture from a camera, stream, video or image file. A sensor stream
    delivers `sensor.window.SensorWindow`s instead; sinks tell them apart by type."""
    image: np.ndarray               # H x W x 3 uint8, BGR (as OpenCV delivers)
    index: int                      # the source's count of frames read, from 0
    captured: float                 # time.monotonic() when it was read off the device or file
    wall_time: float                # time.time() at the same moment
    position: Optional[float] = None  # seconds into a video file
    path: Optional[str] = None        # the image file it came from
