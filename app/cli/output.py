"""Small terminal helpers: a one-line progress bar on stderr (only when it is a terminal)."""

from __future__ import annotations

import sys


def progress_line(done: int | None, total: int | None, label: str, extra: str) -> None:
    """Redraw the progress line; call with done=None to clear it."""
    if not sys.stderr.isatty():
        return
    if done is None or not total:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
        return
    width = 24
    filled = int(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    sys.stderr.write(f"\r\033[K[{bar}] {done}/{total} {extra}  {label[:40]}")
    sys.stderr.flush()
