"""Where results go. A result sink has write(result) and close(); a frame sink
(window, video file) has show(image) -> False to stop the run, and close(),
and receives every frame with the latest result drawn on it."""
from .console import ConsoleSink
from .csvfile import CsvSink
from .jsonl import JsonLinesSink
from .overlay import VideoFileSink, WindowSink, draw_overlay

__all__ = ["ConsoleSink", "CsvSink", "JsonLinesSink", "VideoFileSink", "WindowSink",
           "draw_overlay"]
