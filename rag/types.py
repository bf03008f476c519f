"""Small value types owned by the rag layer (no heavy imports here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["indexed", "indexed_with_warnings", "rejected", "needs_password", "unchanged"]


@dataclass(frozen=True)
class Page:
    """One page of extracted text. `start`/`end` are offsets into ParsedDocument.text."""

    number: int  # 1-based; 1 for formats without pages
    start: int
    end: int
    ocr: bool = False  # the page's text was read from its image by OCR


@dataclass
class ParsedDocument:
    """The extracted text of a file; pages index into `text`."""

    text: str
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)

    def page_text(self, page: Page) -> str:
        return self.text[page.start : page.end]


@dataclass(frozen=True)
class Chunk:
    """A span of a document's extracted text. `text == document_text[start:end]`."""

    id: str
    document_id: str
    page: int
    start: int
    end: int
    text: str
    ocr: bool = False  # its page was read by OCR


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    document_name: str
    path: str
    score: float  # fused score, higher is better
    dense_similarity: float | None = None  # cosine similarity in [-1, 1], when dense found it
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    n: int
    document: str
    path: str
    page: int
    quote: str  # verbatim substring of the chunk, or "" when none could be verified
    start: int  # offsets of the quote in the document's extracted text
    end: int
    chunk_id: str
    verified: bool
    supported: bool = False  # the passage holds every fact of the sentences citing it
    ocr: bool = False  # the cited page was read by OCR


@dataclass(frozen=True)
class DocumentRecord:
    id: str
    name: str
    path: str
    sha256: str
    status: Outcome
    chunk_count: int
    pages: int
    reason: str
    warnings: list[str]
    ingested_at: str
