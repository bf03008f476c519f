"""Format parsers: each turns one file into a ParsedDocument or raises ParseRejected.

Parsers run on whatever thread calls them; PDF and DOCX are meant to be called only inside the
parse worker process (rag.parse_worker), TXT/MD/HTML may run in-process. The text they return is
the reference for every offset downstream: chunks and citation quotes index into it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

from rag.errors import DocumentError
from rag.types import Page, ParsedDocument

PAGE_SEPARATOR = "\n\n"
"""Placed between page texts of a multi-page document; no Page covers it."""


class ParseRejected(DocumentError):
    """The file cannot be indexed; `reason` is a sentence for the person who added it."""

    def __init__(
        self, reason: str, *, outcome: Literal["rejected", "needs_password"] = "rejected"
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcome: Literal["rejected", "needs_password"] = outcome


DAMAGED = "The file is damaged or incomplete and cannot be read"
NO_TEXT = "The document contains no text."


def damaged(detail: str) -> ParseRejected:
    """A rejection for a broken file, with a short technical hint in brackets."""
    return ParseRejected(f"{DAMAGED} ({detail}).")


def join_pages(
    page_texts: Sequence[str], warnings: Sequence[str] = (), ocr_pages: Collection[int] = ()
) -> ParsedDocument:
    """Concatenate page texts with PAGE_SEPARATOR; page i (1-based) gets Page(i, start, end),
    marked `ocr` when i is in `ocr_pages` (its text was read from its image).

    Empty pages are kept (start == end) so that page numbers stay those of the file.
    """
    parts: list[str] = []
    pages: list[Page] = []
    pos = 0
    for number, page_text in enumerate(page_texts, start=1):
        if number > 1:
            parts.append(PAGE_SEPARATOR)
            pos += len(PAGE_SEPARATOR)
        parts.append(page_text)
        pages.append(Page(number, pos, pos + len(page_text), ocr=number in ocr_pages))
        pos += len(page_text)
    return ParsedDocument(text="".join(parts), pages=pages, warnings=list(warnings))


def single_page(text: str, warnings: Sequence[str] = ()) -> ParsedDocument:
    """A document without pages (TXT, MD, HTML, DOCX): one Page numbered 1 covering all text."""
    return ParsedDocument(text=text, pages=[Page(1, 0, len(text))], warnings=list(warnings))


def page_ranges(numbers: Sequence[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10' (for messages that name pages)."""
    out: list[str] = []
    nums = sorted(set(numbers))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)


def format_mb(n_bytes: float) -> str:
    mb = n_bytes / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.1f} MB"
