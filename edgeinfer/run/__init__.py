"""One run: source -> model -> postprocess -> sinks, timed (pipeline.py), and what it reports."""
