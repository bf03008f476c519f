"""The workspace index's public types: what a caller passes and gets back, the protocol the app
codes against (DocumentIndex), and a file's identity (id, hash). Light: no chromadb, no torch."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from rag.types import Chunk, DocumentRecord, Hit, Outcome

if TYPE_CHECKING:
    from rag.limits import ParseLimits

SearchMode = Literal["hybrid", "dense", "lexical"]
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IngestReport:
    document_id: str
    name: str
    path: str
    outcome: Outcome
    chunk_count: int
    pages: int
    reason: str
    warnings: list[str] = field(default_factory=list)


class IngestCancelled(Exception):
    """ingest_file was cancelled; the document's previous version (if any) is still live."""


class DocumentIndex(Protocol):
    """What the app's chat, ingestion and window need of a workspace index: WorkspaceIndex,
    or app.desktop.worker.ProcessIndex (the same index, in the desktop's worker process)."""

    def search(
        self,
        query: str,
        k: int = 5,
        mode: SearchMode = "hybrid",
        documents: Sequence[str] | None = None,
    ) -> list[Hit]: ...
    def openings(self, documents: Sequence[str] | None = None) -> list[Hit]: ...
    def line_of(self, doc_id: str, offset: int) -> int: ...
    def chunk(self, chunk_id: str) -> Chunk: ...
    def documents(self) -> list[DocumentRecord]: ...
    def document(self, doc_id: str) -> DocumentRecord | None: ...
    def remove(self, doc_id_or_path: str | Path) -> bool: ...
    def ingest_file(
        self,
        path: Path,
        *,
        password: str | None = None,
        limits: ParseLimits | None = None,
        cancel: Callable[[], bool] | None = None,
        progress: ProgressCallback | None = None,
    ) -> IngestReport: ...


@dataclass(frozen=True)
class FileIdentity:
    sha256: str = ""
    size: int = 0
    mtime: float = 0.0
    error: str | None = None  # why the file could not be read, in words


@dataclass(frozen=True)
class RecoveryReport:
    pending_versions_cleared: int
    orphan_vectors_removed: int
    vectors_restored: int


def document_id_for(path: Path) -> str:
    """Stable id of a file within a workspace: a short hash of its resolved path."""
    return hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:16]


def file_identity(path: Path) -> FileIdentity:
    """sha256, size and mtime of the file at `path`, or why it cannot be read."""
    try:
        st = path.stat()
        if not path.is_file():
            return FileIdentity(error="It is not a file.")
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        return FileIdentity(sha256=digest.hexdigest(), size=st.st_size, mtime=st.st_mtime)
    except FileNotFoundError:
        return FileIdentity(error="The file was not found.")
    except PermissionError:
        return FileIdentity(error="Enclave is not allowed to read this file (permission denied).")
    except OSError as exc:
        return FileIdentity(error=f"The file could not be read ({exc.strerror or exc}).")
