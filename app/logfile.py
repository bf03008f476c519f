"""Enclave's log file: warnings and errors of Enclave's own code, never content.

Only Enclave's own loggers (app, models, rag, ui) write here, so a dependency's message that
might quote a document never reaches the file. Messages name kinds, counts and code locations.
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

__all__ = ["LOG_NAME", "current_log", "open_log"]

LOG_NAME = "enclave.log"
_OWN = ("app", "models", "rag", "ui")
_current: list[Path] = []  # the file this process logs to, once open_log() has run


def current_log() -> Path | None:
    """The log file of this process, or None before `open_log()`."""
    return _current[-1] if _current else None


def open_log(folder: Path) -> Path:
    """Send Enclave's warnings and errors to `folder/enclave.log` (rotated at 1 MB, 3 kept).
    Idempotent: a second call for the same file adds nothing."""
    path = folder / LOG_NAME
    _current[:] = [path]
    for name in _OWN:
        logger = logging.getLogger(name)
        if any(getattr(h, "baseFilename", None) == str(path) for h in logger.handlers):
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(path, maxBytes=1 << 20, backupCount=3, encoding="utf-8")
        except OSError:  # a read-only profile: Enclave works without its log
            return path
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.WARNING:
            logger.setLevel(logging.WARNING)
    return path
