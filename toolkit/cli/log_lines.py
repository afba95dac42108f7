"""Warnings that vtembed's own modules and plugins log read like the rest of its output.

`log.warning(...)` in a sink or a source (a torn JSONL line cut off, two feed episodes merged)
is meant for the user: it prints as `warning: ...`, like the lines vtembed prints itself, not
as `WARNING:vtembed.plugins.sources.podcast_episodes:...`. Other libraries' records keep the
standard form, so a library that logs to the terminal stays visible as what it is; `--verbose`
shows every record with its logger's name.
"""

from __future__ import annotations

import logging

OWN = ("vtembed", "vtembed.")


class LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if record.name == OWN[0] or record.name.startswith(OWN[1]):
            return f"{record.levelname.lower()}: {record.getMessage()}"
        return super().format(record)


def configure(verbose: bool) -> None:
    if verbose:
        logging.basicConfig(level=logging.DEBUG)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter(logging.BASIC_FORMAT))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
