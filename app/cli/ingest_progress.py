"""The ingest progress line on stderr: files done of total, pages/s and the time left.

On a terminal it is one line redrawn in place; otherwise (a log, a pipe, a CI job) it is a plain
line every `every_s` seconds, so a long run shows it is alive without flooding the output.
File names are escaped (display_name); nothing of a document's content is shown.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from app.library.ingest import IngestProgress
from app.library.names import display_name


def time_left(done: int, total: int, seconds: float) -> str:
    """About how long the rest takes at the rate so far ("" before the first file is done)."""
    if done <= 0 or total <= done:
        return ""
    left = seconds / done * (total - done)
    if left < 60:
        return f"about {max(1, round(left))} s left"
    minutes = round(left / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60:02d} min left"


def progress_text(event: IngestProgress) -> str:
    """'120/500 files, 3.4 pages/s, about 2 min left'."""
    parts = [f"{event.done}/{event.total} files", f"{event.pages_per_second:.1f} pages/s"]
    left = time_left(event.done, event.total, event.seconds)
    if left:
        parts.append(left)
    return ", ".join(parts)


class ProgressLine:
    """Shows IngestProgress events on `stream` (stderr). Runs on the ingesting thread."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s = every_s
        self.clock = clock
        self._last: float | None = None
        self._shown = False

    def update(self, event: IngestProgress) -> None:
        text = progress_text(event)
        if self.tty:
            width = 24
            filled = int(width * event.done / event.total) if event.total else width
            bar = "#" * filled + "-" * (width - filled)
            name = display_name(event.current.name)[:40]
            self.stream.write(f"\r\033[K[{bar}] {text}  {name}")
            self.stream.flush()
            self._shown = True
            return
        now = self.clock()
        if self._last is None or now - self._last >= self.every_s:
            self._last = now
            self.stream.write(f"ingest: {text}\n")
            self.stream.flush()

    def clear(self) -> None:
        """Remove the redrawn line (a terminal) before other output is printed."""
        if self.tty and self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False
