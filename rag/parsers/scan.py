"""OCR for the image pages of one file (a scanned PDF page, a TIFF frame, a PNG or JPEG), in the
parse worker, within the file's time budget.

`PageOcr.read` is called once per page that has no text layer. The engine (rag.ocr) is made on
the first such page, so a file with a text layer on every page never loads it. The worker is
killed when `limits.timeout_s + limits.ocr_timeout_s` of wall-clock time pass, so OCR stops
early enough to return what it has read: a page is not started when the pages so far say it
would not finish in time; the pages left out are named in a warning. A page read with a mean
confidence below rag.ocr.CONFIDENCE_FLOOR is named in a warning too (its text is kept: it is
searchable, and its citations say it was read by OCR).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rag.limits import ParseLimits
from rag.parsers import page_ranges

if TYPE_CHECKING:
    from PIL import Image

    from rag.ocr import OcrEngine

_BUDGET_SHARE = 0.85  # OCR must end by this share of timeout_s (the rest: start-up, the result)
OCR_MISSING = "OCR is not available in this installation: {detail}."


def _pages(numbers: list[int]) -> str:
    return ("pages " if len(numbers) > 1 else "page ") + page_ranges(numbers)


class PageOcr:
    """Reads page images by OCR for one file and remembers what happened to each page.
    Runs on the parse worker's only thread. `started` is when the worker began (monotonic)."""

    def __init__(self, limits: ParseLimits, *, started: float | None = None) -> None:
        begun = time.monotonic() if started is None else started
        self._deadline = begun + (limits.timeout_s + limits.ocr_timeout_s) * _BUDGET_SHARE
        self._engine: OcrEngine | None = None
        self._unavailable = ""
        self._slowest = 0.0
        self.seconds = 0.0  # spent in OCR so far (the engine's start-up and the reading)
        self.read_pages: list[int] = []  # pages whose text came from OCR
        self.confidence: dict[int, float] = {}
        self.empty: list[int] = []  # OCR ran and found no text
        self.out_of_time: list[int] = []
        self.not_read: list[int] = []  # OCR unavailable

    def read(self, number: int, render: Callable[[], Image.Image]) -> str:
        """The OCR text of page `number` ("" when none was read); `render` makes its image."""
        if self._unavailable:
            self.not_read.append(number)
            return ""
        if self.out_of_time or time.monotonic() + self._slowest * 1.2 > self._deadline:
            self.out_of_time.append(number)
            return ""
        engine = self._load()
        if engine is None:
            self.not_read.append(number)
            return ""
        began = time.monotonic()
        page = engine.read(render())
        took = time.monotonic() - began
        self._slowest = max(self._slowest, took)
        self.seconds += took
        if not page.text.strip():
            self.empty.append(number)
            return ""
        self.read_pages.append(number)
        self.confidence[number] = page.confidence
        return page.text

    def _load(self) -> OcrEngine | None:
        if self._engine is None:
            from rag.ocr import OcrEngine, OcrUnavailable

            began = time.monotonic()
            try:
                self._engine = OcrEngine()
            except (OcrUnavailable, ImportError) as exc:
                self._unavailable = OCR_MISSING.format(
                    detail=str(exc).rstrip(".") or "import failed"
                )
                return None
            finally:
                self.seconds += time.monotonic() - began
        return self._engine

    @property
    def unavailable(self) -> str:
        """Why OCR could not run ("" when it could, or was never needed)."""
        return self._unavailable

    def low_confidence(self) -> list[int]:
        from rag.ocr import CONFIDENCE_FLOOR

        return [n for n in self.read_pages if self.confidence[n] < CONFIDENCE_FLOOR]

    def warnings(self) -> list[str]:
        """Sentences for the pages OCR read poorly or could not read."""
        from rag.ocr import CONFIDENCE_FLOOR

        out: list[str] = []
        low = self.low_confidence()
        if low:
            worst = min(self.confidence[n] for n in low)
            out.append(
                f"OCR read {_pages(low)} with low confidence (lowest {worst:.0%}, below "
                f"{CONFIDENCE_FLOOR:.0%}); check quotes from {'them' if len(low) > 1 else 'it'} "
                "against the original."
            )
        if self.out_of_time:
            out.append(
                f"OCR ran out of time before {_pages(self.out_of_time)}, which "
                f"{'are' if len(self.out_of_time) > 1 else 'is'} left out "
                "(parse_ocr_timeout_s in settings)."
            )
        if self.not_read:
            out.append(f"{self._unavailable} Left out: {_pages(self.not_read)}.")
        return out
