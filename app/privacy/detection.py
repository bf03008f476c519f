"""The detection record and the lazily compiled regular expression the detectors share."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Detection:
    start: int
    end: int
    kind: str
    priority: int  # overlaps: higher priority wins, then the longer span


class Lazy:
    """A regular expression compiled on first use (importing a detector module stays cheap)."""

    __slots__ = ("_compiled", "_flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self._flags)
        return self._compiled

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        return self.get().finditer(text, pos)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.get().search(text, pos, endpos)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.get().match(text, pos)
