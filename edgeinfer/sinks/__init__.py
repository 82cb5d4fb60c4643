"""Where results go. Every sink has write(item, result) and close(): item is
the Frame or SensorWindow the source gave, result its Result, or None for an
item the run did not classify (--every N). write returns False to stop the
run (a closed window, a reader gone), and may name why in `closed_reason`.
The overlay sinks (window, video file) draw the latest result on each frame."""
from .console import ConsoleSink
from .csvfile import CsvSink
from .jsonl import JsonLinesSink
from .overlay import VideoFileSink, WindowSink, draw_overlay

__all__ = ["ConsoleSink", "CsvSink", "JsonLinesSink", "VideoFileSink", "WindowSink",
           "draw_overlay"]
