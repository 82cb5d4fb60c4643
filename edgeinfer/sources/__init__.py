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
from .camera import open_camera, open_picam
from .frame import Frame
from .images import open_images
from .video import open_stream, open_video

__all__ = ["Frame", "open_camera", "open_picam", "open_images", "open_stream", "open_video"]
