"""Sensor samples: windowing and the window's tensor layout (window.py), and
reading sample streams (stream.py). Kept empty so the model can use window.py
without importing the streams."""
