"""Errors that mean something to a user, each mapped to an exit code by the CLI.

Anything raised as one of these is shown as one line, never a traceback.
"""


class VtembedError(Exception):
    """Base for errors we expect and explain."""

    exit_code = 1


class UsageError(VtembedError):
    """The command line, configuration or environment is wrong; nothing was processed."""

    exit_code = 2


class MediaError(VtembedError):
    """One media item cannot be used (no audio, not media, truncated); the run goes on."""


class Stopped(Exception):
    """The run is stopping (Ctrl-C): raised inside a stage so work in a thread ends promptly.

    Not a failure of the item: it is neither reported nor recorded as one."""
