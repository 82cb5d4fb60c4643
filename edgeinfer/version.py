"""The package's release, kept apart so benchmark records can name it
without importing the package root."""
__version__ = "0.1.0"
