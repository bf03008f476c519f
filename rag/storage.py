"""The storage below a workspace index: one protocol, two implementations.

`rag.index.WorkspaceIndex` is the only code path for ingest, search, removal and recovery. What
it needs of the storage is named here:

- `ManifestStore`: the source of truth (documents, live chunks with their text, the lexical
  index, the extracted text and pages, pending vector versions, the embedder's identity).
  Local: `rag.manifest.Manifest` (SQLite + FTS5). Shared: `rag.pg_manifest.PgManifest`
  (PostgreSQL, one workspace's rows, visible only to its members).
- `VectorBackend`: ids, vectors and {document_id, version, page} metadata. Local:
  `rag.store.VectorStore` (chromadb PersistentClient). Shared:
  `rag.remote_vectors.RemoteVectorStore` (a Chroma server through chromadb's HttpClient).
- `WriterLock`: who may write now. Local: a thread lock (the folder's file lock keeps other
  processes out). Shared: `rag.pg_manifest.AdvisoryWriterLock`, serialised by the database.

The types here are light: no chromadb, no psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from rag.manifest import ChunkRow, DocumentRow
from rag.types import Chunk, Outcome, Page

__all__ = ["ManifestStore", "VectorBackend", "WorkspaceStorage", "WriterLock"]


class ManifestStore(Protocol):
    """What WorkspaceIndex uses of a manifest (see rag.manifest.Manifest for the semantics)."""

    def check_embedder(self, name: str, dimension: int) -> bool: ...
    def document(self, doc_id: str) -> DocumentRow | None: ...
    def documents(self) -> list[DocumentRow]: ...
    def begin_version(self, doc_id: str) -> int: ...
    def pending(self) -> list[tuple[str, int]]: ...
    def clear_pending(self, doc_id: str, version: int) -> None: ...
    def commit_version(
        self,
        *,
        doc_id: str,
        name: str,
        path: str,
        sha256: str,
        size: int,
        mtime: float,
        status: Outcome,
        version: int,
        chunks: Sequence[Chunk],
        text: str,
        pages: Sequence[Page],
        warnings: Sequence[str],
    ) -> int: ...
    def record_failure(
        self,
        *,
        doc_id: str,
        name: str,
        path: str,
        sha256: str,
        size: int,
        mtime: float,
        outcome: Outcome,
        reason: str,
        warnings: Sequence[str],
    ) -> DocumentRow: ...
    def clear_failure_note(self, doc_id: str) -> DocumentRow: ...
    def remove_document(self, doc_id: str) -> bool: ...
    def live_chunks(self, ids: Sequence[str]) -> dict[str, ChunkRow]: ...
    def chunk(self, chunk_id: str) -> ChunkRow | None: ...
    def opening_chunk(self, doc_id: str) -> ChunkRow | None: ...
    def document_chunks(self, doc_id: str) -> list[Chunk]: ...
    def iter_live_chunks(self, batch: int = 512) -> Iterator[list[ChunkRow]]: ...
    def live_chunk_ids(self) -> set[str]: ...
    def live_chunk_count(self) -> int: ...
    def lexical(
        self, query: str, n: int, documents: Sequence[str] | None = None
    ) -> list[tuple[str, float]]: ...
    def document_text(self, doc_id: str) -> str | None: ...
    def pages(self, doc_id: str) -> list[Page]: ...
    def counts(self) -> dict[str, int]: ...
    def get_meta(self, key: str) -> str | None: ...
    def close(self) -> None: ...


class VectorBackend(Protocol):
    """What WorkspaceIndex uses of a vector store (see rag.store.VectorStore)."""

    def check(self, dimension: int) -> None: ...
    def count(self) -> int: ...
    def add(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, str | int]],
    ) -> None: ...
    def delete_ids(self, ids: Sequence[str]) -> None: ...
    def delete_version(self, document_id: str, version: int) -> None: ...
    def delete_document(self, document_id: str) -> None: ...
    def query(
        self, embedding: Sequence[float], n: int, documents: Sequence[str] | None = None
    ) -> list[tuple[str, float]]: ...
    def embeddings(self, ids: Sequence[str]) -> dict[str, list[float]]: ...
    def all_ids(self) -> set[str]: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...


class WriterLock(Protocol):
    """Held (re-entrantly, by one thread) for every write; `with lock:`."""

    def __enter__(self) -> object: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> object: ...


@dataclass
class WorkspaceStorage:
    """The parts one WorkspaceIndex runs on; `release` runs once, after both are closed."""

    manifest: ManifestStore
    store: VectorBackend
    writer: WriterLock
    release: Callable[[], None] = lambda: None
