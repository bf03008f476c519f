"""Silence Python's prints from one thread while leaving every other thread's output alone.

llama-cpp-python's own way to be quiet (`verbose=False`) points file descriptors 1 and 2 at
/dev/null for the whole process while a model loads, so whatever another thread printed then
(the evidence of an answer, `--json` output) was lost. Enclave loads with `verbose=True`
instead, inside `muted_here()`: the loading thread's prints (model metadata, the chat
template) are dropped, other threads' pass through. llama.cpp's own log lines never reach the
streams: models.llama_log receives them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["muted_here"]

_lock = threading.Lock()
_muted: set[int] = set()
_saved: tuple[TextIO, TextIO] | None = None


class _Filtered:
    """A stream that drops writes made on a muted thread and passes on all others."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if threading.get_ident() in _muted:
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding ...
        return getattr(self._stream, name)


@contextmanager
def muted_here() -> Iterator[None]:
    """Drop what this thread prints to sys.stdout and sys.stderr meanwhile."""
    global _saved
    ident = threading.get_ident()
    with _lock:
        if not _muted:
            _saved = (sys.stdout, sys.stderr)
            sys.stdout = _Filtered(sys.stdout)
            sys.stderr = _Filtered(sys.stderr)
        _muted.add(ident)
    try:
        yield
    finally:
        with _lock:
            _muted.discard(ident)
            if not _muted and _saved is not None:
                # put the streams back unless someone replaced them meanwhile (then theirs
                # stays, and our filter, which it may wrap, passes everything on)
                if isinstance(sys.stdout, _Filtered):
                    sys.stdout = _saved[0]
                if isinstance(sys.stderr, _Filtered):
                    sys.stderr = _saved[1]
                _saved = None
