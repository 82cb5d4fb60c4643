"""Failures the user can fix: the CLI prints them as one line, no traceback."""


class UserError(Exception):
    """What went wrong, with which file or device, and what to do."""
