"""The vector half of a workspace index: one chromadb persistent client per workspace folder.

Chroma holds only ids, vectors and {document_id, version, page} metadata; chunk text lives in the
SQLite manifest, which is the source of truth (this store can always be rebuilt from it).
Privacy: telemetry is off, every embedding is passed explicitly, and the collection's embedding
function refuses to run, so a text-only add/query raises instead of downloading a model.
Chroma is thread-safe but not process-safe: one process per folder.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from rag.errors import DocumentError

COLLECTION = "chunks"
REFUSAL = "Enclave passes embeddings explicitly; refusing to embed"
_EF_NAME = "enclave-refusing-embedder"

_ef_class: type | None = None
_ef_lock = threading.Lock()


def refusing_embedding_function() -> Any:
    """An instance of chromadb's EmbeddingFunction protocol whose __call__ always raises.

    The class is built on first use (chromadb is a heavy import) and registered with chromadb so
    that a persisted collection can name it in its configuration.
    """
    global _ef_class
    with _ef_lock:
        if _ef_class is None:
            _ef_class = _build_refusing_class()
    return _ef_class()


def _build_refusing_class() -> type:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    class RefusingEmbeddingFunction(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: Documents) -> Embeddings:
            raise RuntimeError(REFUSAL)

        @staticmethod
        def name() -> str:
            return _EF_NAME

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> RefusingEmbeddingFunction:
            return RefusingEmbeddingFunction()

        def default_space(self) -> Any:
            return "cosine"

    register_embedding_function(RefusingEmbeddingFunction)
    return RefusingEmbeddingFunction


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(start + size, n)


class WorkspaceBusyError(DocumentError):
    """Another process (or another open index in this one) is using the workspace folder."""


class WorkspaceLock:
    """An exclusive advisory lock on a workspace folder, held while its index is open.

    Chroma is not process-safe, so a second opener gets a clear error instead of a corrupted
    index. The OS drops the lock when the process dies, so a crash never leaves it stuck. The
    holder writes its pid and the time it took the lock into the file, so that whoever waits
    can say for whom (`lock_holder`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = open(path, "a+b")  # noqa: SIM115 - held until release()
        try:
            _lock_exclusive(self._fh)
        except OSError as exc:
            self._fh.close()
            self._fh = None
            raise WorkspaceBusyError(busy_message(path)) from exc
        _write_holder(self._fh)

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing the descriptor releases the lock
            self._fh = None


def busy_message(lock_path: Path) -> str:
    """One sentence: the workspace at the lock's folder is in use, by whom, since when."""
    holder = lock_holder(lock_path)
    if holder.startswith(f" (pid {os.getpid()}"):
        return (
            f"The workspace index at {lock_path.parent} is already open in this Enclave; "
            "close it before opening it again."
        )
    return (
        f"The workspace index at {lock_path.parent} is in use by another Enclave process"
        f"{lock_holder(lock_path)} until it finishes; try again then, or close it there."
    )


def lock_holder(lock_path: Path) -> str:
    """' (pid N, since HH:MM:SS)' for the process that holds the lock, or '' when unknown."""
    try:
        with open(lock_path, "rb") as fh:
            pid, _, since = fh.read(200).decode("ascii", "replace").strip().partition(" ")
    except OSError:
        return ""
    if not pid.isdigit():
        return ""
    return f" (pid {pid}, since {since})" if since else f" (pid {pid})"


def is_locked(lock_path: Path) -> bool:
    """Whether another process holds the workspace lock now (a probe: takes and drops it)."""
    if not lock_path.exists():
        return False
    with open(lock_path, "rb") as fh:
        try:
            _lock_exclusive(fh)  # dropped again when the file closes
        except OSError:
            return True
    return False


def _write_holder(fh: IO[bytes]) -> None:
    with contextlib.suppress(OSError):
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()} {time.strftime('%H:%M:%S')}\n".encode("ascii"))
        fh.flush()


def _lock_exclusive(fh: IO[bytes]) -> None:
    if os.name == "nt":
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _forget_failed_system(folder: Path) -> None:
    """chromadb caches a System per path even when opening it failed, so every later client
    for that path would reuse the broken one: drop it from the cache."""
    with contextlib.suppress(Exception):
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(folder), None)
        SharedSystemClient._identifier_to_refcount.pop(str(folder), None)


class VectorStore:
    """The chroma collection of one workspace (cosine space). Safe to share between threads."""

    def __init__(self, folder: Path) -> None:
        import chromadb
        from chromadb.config import Settings

        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        try:
            self._client = chromadb.PersistentClient(
                path=str(folder),
                settings=Settings(anonymized_telemetry=False, allow_reset=False),
            )
        except Exception:
            _forget_failed_system(folder)
            raise
        self._max_batch = max(1, min(1000, int(self._client.get_max_batch_size())))
        self._collection = self._open_collection()

    def _open_collection(self) -> Any:
        return self._client.get_or_create_collection(
            COLLECTION,
            embedding_function=refusing_embedding_function(),
            metadata={"hnsw:space": "cosine"},
        )

    @property
    def collection(self) -> Any:
        """The raw chromadb collection (for tests and diagnostics)."""
        return self._collection

    def check(self, dimension: int) -> None:
        """Raise if the stored vectors cannot be read (count, then one query when non-empty)."""
        if self.count() > 0:
            self.query([1.0] + [0.0] * (dimension - 1), 1)

    def count(self) -> int:
        return int(self._collection.count())

    def add(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, str | int]],
    ) -> None:
        if not (len(ids) == len(embeddings) == len(metadatas)):
            raise ValueError("ids, embeddings and metadatas must have the same length")
        for lo, hi in _batches(len(ids), self._max_batch):
            self._collection.upsert(
                ids=list(ids[lo:hi]),
                embeddings=[list(map(float, e)) for e in embeddings[lo:hi]],
                metadatas=[dict(m) for m in metadatas[lo:hi]],
            )

    def delete_ids(self, ids: Sequence[str]) -> None:
        for lo, hi in _batches(len(ids), self._max_batch):
            self._collection.delete(ids=list(ids[lo:hi]))

    def delete_version(self, document_id: str, version: int) -> None:
        self._collection.delete(
            where={"$and": [{"document_id": document_id}, {"version": int(version)}]}
        )

    def delete_document(self, document_id: str) -> None:
        self._collection.delete(where={"document_id": document_id})

    def query(
        self, embedding: Sequence[float], n: int, documents: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The `n` nearest ids with their cosine similarity (1 - cosine distance), best first;
        only vectors of `documents` (document ids) when given."""
        total = self.count()
        if total == 0 or n <= 0 or (documents is not None and not documents):
            return []
        where = None if documents is None else {"document_id": {"$in": list(documents)}}
        result = self._collection.query(
            query_embeddings=[list(map(float, embedding))],
            n_results=min(n, total),
            include=["distances"],
            where=where,
        )
        ids = result["ids"][0]
        distances = (result.get("distances") or [[1.0] * len(ids)])[0]
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def embeddings(self, ids: Sequence[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["embeddings"])
        vectors = got.get("embeddings")
        if vectors is None:
            return {}
        return {i: [float(x) for x in v] for i, v in zip(got["ids"], vectors, strict=True)}

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self._collection.get(include=[], limit=page, offset=offset)
            batch = got["ids"]
            ids.update(batch)
            if len(batch) < page:
                return ids
            offset += page

    def reset(self) -> None:
        """Drop the collection and create an empty one."""
        with contextlib.suppress(Exception):  # already gone: nothing to drop
            self._client.delete_collection(COLLECTION)
        self._collection = self._open_collection()

    def close(self) -> None:
        self._client.close()  # type: ignore[attr-defined]
