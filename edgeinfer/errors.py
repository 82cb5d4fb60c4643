"""Failures the user can fix: the CLI prints them as one line, no traceback."""


class UserError(Exception):
    """What went wrong, with which file or device, and what to do."""


class ModelError(UserError):
    """A model file that is missing, unreadable, or does not fit its input."""


class SourceError(UserError):
    """A camera, stream, video or image that cannot be opened or read."""
