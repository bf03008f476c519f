"""One workspace's document index: a SQLite manifest (truth, text, BM25) plus chroma (vectors).

Folder layout: `root/manifest.sqlite3` and `root/chroma/`. Nothing is shared between workspaces,
so nothing retrieved can cross from one to another.

Replacing a document is atomic for readers: the new version's vectors are written to chroma under
new ids first, then ONE SQLite transaction makes that version live (chunks + FTS + row), then the
old version's vectors are deleted. Searches only return chunk ids that the manifest says are live,
so vectors left behind by a killed process are invisible, and `recover()` (run on open) removes
them. Chroma can always be rebuilt from the manifest (`rebuild_vectors`).

Threads: one writer at a time (ingest_file, remove, rebuild_vectors, recover hold a writer lock);
search/chunk/documents may run concurrently on other threads. Callbacks (`progress`, `cancel`)
run on the thread that called ingest_file.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rag.fusion import reciprocal_rank_fusion
from rag.index_types import (
    DocumentIndex,
    FileIdentity,
    IngestCancelled,
    IngestReport,
    ProgressCallback,
    RecoveryReport,
    SearchMode,
    document_id_for,
    file_identity,
)
from rag.injection import instruction_spans
from rag.manifest import DocumentRow, Manifest
from rag.store import VectorStore, WorkspaceLock
from rag.types import Chunk, DocumentRecord, Hit, Outcome, ParsedDocument

if TYPE_CHECKING:
    from rag.storage import ManifestStore, VectorBackend, WorkspaceStorage, WriterLock

if TYPE_CHECKING:
    from rag.embedder import Embedder
    from rag.extract import ExtractResult
    from rag.limits import ParseLimits

__all__ = [  # the types live in rag.index_types; they are named here too for callers
    "DocumentIndex",
    "FileIdentity",
    "IngestCancelled",
    "IngestReport",
    "RecoveryReport",
    "SearchMode",
    "WorkspaceIndex",
    "document_id_for",
    "file_identity",
]

log = logging.getLogger(__name__)

EMBED_GROUP = 64  # chunks embedded and written per step (cancel is checked between steps)


class WorkspaceIndex:
    """The index of one workspace folder `root`, using `embedder` for every vector.

    `WorkspaceIndex.on_storage` runs the same code on other storage (rag.storage: a shared
    workspace's PostgreSQL manifest and Chroma server)."""

    manifest: ManifestStore
    store: VectorBackend
    _writer: WriterLock

    def __init__(self, root: Path, embedder: Embedder) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self._lock_file = WorkspaceLock(self.root / ".lock")
        self._release: Callable[[], None] = self._lock_file.release
        self._writer = threading.RLock()
        self.before_commit: Callable[[str, int], None] | None = None  # test hook: (doc, ver)
        manifest: Manifest | None = None
        store: VectorStore | None = None
        try:
            manifest = self.manifest = Manifest(self.root / "manifest.sqlite3")
            fresh = manifest.check_embedder(embedder.name, int(embedder.dimension))
            store = self.store = self._open_store(trusted=not fresh)
            self.last_recovery: RecoveryReport = self.recover()
        except BaseException:
            if store is not None:
                store.close()
            if manifest is not None:
                manifest.close()
            self._lock_file.release()
            raise

    @classmethod
    def on_storage(
        cls, storage: WorkspaceStorage, embedder: Embedder, *, label: str = "shared"
    ) -> WorkspaceIndex:
        """The index over `storage` (its manifest, vectors and writer lock), recovered as on
        open. `label` names it where a folder would (`root`, for messages only)."""
        index = cls.__new__(cls)
        index.root = Path(label)
        index.embedder = embedder
        index._release = storage.release
        index._writer = storage.writer
        index.before_commit = None
        index.manifest, index.store = storage.manifest, storage.store
        try:
            index.manifest.check_embedder(embedder.name, int(embedder.dimension))
            index.store.check(int(embedder.dimension))
            index.last_recovery = index.recover()
        except BaseException:
            index.close()
            raise
        return index

    def _open_store(self, *, trusted: bool) -> VectorStore:
        """Open root/chroma. A folder that this manifest did not write (a fresh manifest next
        to an existing chroma folder) is never opened: chroma's folder holds pickles. An
        unreadable one is set aside. Either way recover() then rebuilds it from the manifest."""
        folder = self.root / "chroma"
        if folder.exists() and not trusted:
            self._set_aside(folder, "untrusted", "not written by this manifest")
        try:
            store = VectorStore(folder)
            try:
                store.check(int(self.embedder.dimension))
            except Exception:
                store.close()
                raise
            return store
        except Exception as exc:
            self._set_aside(folder, "unreadable", type(exc).__name__)
            return VectorStore(folder)

    @staticmethod
    def _set_aside(folder: Path, why: str, detail: str) -> None:
        aside = folder.with_name(f"chroma.{why}-{time.strftime('%Y%m%d-%H%M%S')}")
        log.warning("vector store %s (%s); moved to %s", why, detail, aside.name)
        if folder.exists():
            folder.rename(aside)

    # -- ingestion --------------------------------------------------------------------------

    def ingest_file(
        self,
        path: Path,
        *,
        password: str | None = None,
        limits: ParseLimits | None = None,
        cancel: Callable[[], bool] | None = None,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Index the file at `path`, or record in the manifest why it cannot be.

        Outcomes: "unchanged" (same sha256 as the live version: nothing is written),
        "indexed"/"indexed_with_warnings", "rejected"/"needs_password" (a live older version of
        the same path then stays searchable; the report's reason says so). Raises
        IngestCancelled if `cancel()` turns true (checked between embedding steps of
        EMBED_GROUP chunks): the previous version, if any, stays live, untouched.
        `progress(stage, done, total)` is called on this thread with the stages "hashing",
        "extracting", "chunking", "embedding" (done/total chunks), "committing", "done"."""
        path = Path(path)
        doc_id = document_id_for(path)
        report = _progress(progress)
        report("hashing", 0, 1)
        identity = file_identity(path)
        with self._writer:
            row = self.manifest.document(doc_id)
            unchanged = row is not None and row.is_live and row.sha256 == identity.sha256
            if identity.error is None and row is not None and unchanged:
                if row.last_attempt_sha256 != row.sha256:  # back to the indexed version
                    row = self.manifest.clear_failure_note(doc_id)
                return _report(row, "unchanged")
            if identity.error is not None:
                return self._fail(doc_id, path, identity, "rejected", identity.error, [])
            report("extracting", 0, 1)
            result = run_extract(path, password=password, limits=limits)
            if result.parsed is None or result.outcome in ("rejected", "needs_password"):
                outcome: Outcome = (
                    "needs_password" if result.outcome == "needs_password" else "rejected"
                )
                return self._fail(doc_id, path, identity, outcome, result.reason, result.warnings)
            return self._ingest_parsed(
                doc_id,
                path,
                result.parsed,
                identity.sha256,
                identity.size,
                identity.mtime,
                list(result.warnings),
                None,
                cancel,
                report,
            )

    def ingest_parsed(
        self,
        path: Path,
        parsed: ParsedDocument,
        *,
        chunks: Sequence[Chunk] | None = None,
        sha256: str | None = None,
        cancel: Callable[[], bool] | None = None,
        progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Index an already extracted document under `path` (its id and name come from the path).
        `chunks` default to rag.chunking.chunk_document; `sha256` to a hash of the text."""
        path = Path(path)
        doc_id = document_id_for(path)
        digest = sha256 or hashlib.sha256(parsed.text.encode("utf-8")).hexdigest()
        with self._writer:
            row = self.manifest.document(doc_id)
            if row is not None and row.is_live and row.sha256 == digest:
                return _report(row, "unchanged")
            return self._ingest_parsed(
                doc_id,
                path,
                parsed,
                digest,
                len(parsed.text),
                0.0,
                [],
                chunks,
                cancel,
                _progress(progress),
            )

    def _ingest_parsed(
        self,
        doc_id: str,
        path: Path,
        parsed: ParsedDocument,
        sha256: str,
        size: int,
        mtime: float,
        warnings: list[str],
        chunks: Sequence[Chunk] | None,
        cancel: Callable[[], bool] | None,
        report: ProgressCallback,
    ) -> IngestReport:
        warnings = list(dict.fromkeys([*warnings, *parsed.warnings]))
        addressed = len(instruction_spans(parsed.text))
        if addressed:
            warnings.append(
                f"{addressed} passage(s) address an AI assistant (instructions, a role to play); "
                "answers never follow or quote them."
            )
        report("chunking", 0, 1)
        if chunks is None:
            from rag.chunking import chunk_document

            chunks = chunk_document(doc_id, parsed)
        problem = check_chunks(parsed, chunks) if chunks else "No text could be found in it."
        if problem:
            identity = FileIdentity(sha256=sha256, size=size, mtime=mtime)
            return self._fail(doc_id, path, identity, "rejected", problem, warnings)

        version = self.manifest.begin_version(doc_id)
        live = [
            replace(ch, id=f"{doc_id}-v{version}-{seq:05d}", document_id=doc_id)
            for seq, ch in enumerate(chunks)
        ]
        try:
            for lo in range(0, len(live), EMBED_GROUP):
                if cancel is not None and cancel():
                    raise IngestCancelled(f"Indexing of {path.name} was cancelled.")
                report("embedding", lo, len(live))
                group = live[lo : lo + EMBED_GROUP]
                vectors = self.embedder.embed([c.text for c in group])
                self.store.add(
                    [c.id for c in group],
                    vectors,
                    [{"document_id": doc_id, "version": version, "page": c.page} for c in group],
                )
            report("embedding", len(live), len(live))
            if cancel is not None and cancel():
                raise IngestCancelled(f"Indexing of {path.name} was cancelled.")
            if self.before_commit is not None:
                self.before_commit(doc_id, version)
            report("committing", 0, 1)
            status: Outcome = "indexed_with_warnings" if warnings else "indexed"
            old_version = self.manifest.commit_version(
                doc_id=doc_id,
                name=path.name,
                path=str(path.resolve()),
                sha256=sha256,
                size=size,
                mtime=mtime,
                status=status,
                version=version,
                chunks=live,
                text=parsed.text,
                pages=parsed.pages,
                warnings=warnings,
            )
        except BaseException:
            self._drop_version(doc_id, version)
            raise
        if old_version:
            self._drop_version(doc_id, old_version)
        report("done", 1, 1)
        row = self.manifest.document(doc_id)
        assert row is not None
        return _report(row, row.status)

    def _drop_version(self, doc_id: str, version: int) -> None:
        """Delete a non-live version's vectors, then forget it (best effort: recover() retries)."""
        try:
            self.store.delete_version(doc_id, version)
            self.manifest.clear_pending(doc_id, version)
        except Exception as exc:
            log.warning("could not drop vectors of an old version yet: %s", type(exc).__name__)

    def _fail(
        self,
        doc_id: str,
        path: Path,
        identity: FileIdentity,
        outcome: Outcome,
        reason: str,
        warnings: Sequence[str],
    ) -> IngestReport:
        row = self.manifest.record_failure(
            doc_id=doc_id,
            name=path.name,
            path=str(path.resolve()),
            sha256=identity.sha256,
            size=identity.size,
            mtime=identity.mtime,
            outcome=outcome,
            reason=reason,
            warnings=list(warnings),
        )
        return IngestReport(  # this attempt indexed nothing (a live older version may remain)
            document_id=doc_id,
            name=path.name,
            path=str(path.resolve()),
            outcome=outcome,
            chunk_count=0,
            pages=0,
            reason=row.reason if row.is_live else reason,
            warnings=list(warnings),
        )

    # -- documents --------------------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        return [row.record() for row in self.manifest.documents()]

    def document(self, doc_id: str) -> DocumentRecord | None:
        row = self.manifest.document(doc_id)
        return row.record() if row else None

    def remove(self, doc_id_or_path: str | Path) -> bool:
        """Remove a document (by id or path) from the manifest, the FTS index and chroma."""
        with self._writer:
            row = self._find(doc_id_or_path)
            if row is None:
                return False
            self.manifest.remove_document(row.id)
            self.store.delete_document(row.id)
            for doc, version in self.manifest.pending():
                if doc == row.id:
                    self.manifest.clear_pending(doc, version)
            return True

    def _find(self, doc_id_or_path: str | Path) -> DocumentRow | None:
        if isinstance(doc_id_or_path, str):
            row = self.manifest.document(doc_id_or_path)
            if row is not None:
                return row
        return self.manifest.document(document_id_for(Path(doc_id_or_path)))

    def chunk(self, chunk_id: str) -> Chunk:
        row = self.manifest.chunk(chunk_id)
        if row is None:
            raise KeyError(f"no live chunk {chunk_id!r} in this workspace")
        return row.chunk

    def document_text_span(self, doc_id: str, start: int, end: int) -> str:
        text = self.manifest.document_text(doc_id)
        if text is None:
            raise KeyError(f"no indexed document {doc_id!r} in this workspace")
        return text[max(start, 0) : max(end, 0)]

    # -- search -----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 5,
        mode: SearchMode = "hybrid",
        documents: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The `k` best live chunks for `query`. hybrid = dense + BM25 fused by RRF (k=60).
        Every hybrid/dense hit carries its cosine similarity to the query. `documents`
        (document ids) limits the search to those documents."""
        if k <= 0 or not query.strip():
            return []
        depth = max(4 * k, 20)
        qvec: list[float] | None = None
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed([query])[0]
            dense = self._dense_live(qvec, depth, documents)
        if mode in ("hybrid", "lexical"):
            lexical = self.manifest.lexical(query, depth, documents)
        rows = self.manifest.live_chunks([i for i, _ in dense] + [i for i, _ in lexical])
        dense = [(i, s) for i, s in dense if i in rows][:depth]
        lexical = [(i, s) for i, s in lexical if i in rows]
        sims = dict(dense)
        lex_rank = {cid: n for n, (cid, _) in enumerate(lexical, start=1)}
        if mode == "dense":
            ranked = dense[:k]
        elif mode == "lexical":
            ranked = lexical[:k]
        else:
            # Lexical first: on a tie (an exact-word match that dense missed vs dense's own top
            # hit) the exact words win; drug names, clause names and case numbers are words.
            ranked = reciprocal_rank_fusion(
                [[i for i, _ in lexical], [i for i, _ in dense]], limit=k
            )
        if qvec is not None:
            missing = [cid for cid, _ in ranked if cid not in sims]
            for cid, vec in self.store.embeddings(missing).items():
                sims[cid] = _cosine(qvec, vec)
        return [
            Hit(
                chunk=rows[cid].chunk,
                document_name=rows[cid].document_name,
                path=rows[cid].path,
                score=float(score),
                dense_similarity=sims.get(cid),
                lexical_rank=lex_rank.get(cid),
            )
            for cid, score in ranked
        ]

    def _dense_live(
        self, qvec: Sequence[float], depth: int, documents: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The `depth` nearest *live* vectors. The collection may also hold stale ones (a
        version being replaced, orphans a crash left before recovery): the query goes deeper
        until `depth` live ones are found or the collection is exhausted, so however many stale
        vectors there are, they never crowd a live chunk out of the results."""
        total = self.store.count()
        n = min(depth + 8, total)
        while True:
            found = self.store.query(qvec, n, documents)
            live = self.manifest.live_chunks([i for i, _ in found])
            kept = [(i, s) for i, s in found if i in live]
            if len(kept) >= depth or n >= total:
                return kept[:depth]
            n = min(total, max(2 * n, n + 4 * (depth - len(kept))))

    def openings(self, documents: Sequence[str] | None = None) -> list[Hit]:
        """The first passage of each document (of `documents`, or all): where a contract names
        itself, its parties and its date. Score 0: they were not found by searching."""
        ids = list(documents) if documents is not None else [d.id for d in self.documents()]
        hits = []
        for doc_id in ids:
            row = self.manifest.opening_chunk(doc_id)
            if row is not None:
                hits.append(Hit(row.chunk, row.document_name, row.path, 0.0))
        return hits

    def line_of(self, doc_id: str, offset: int) -> int:
        """The 1-based line of the document's extracted text at `offset` (text files)."""
        text = self.manifest.document_text(doc_id)
        if text is None:
            raise KeyError(f"no indexed document {doc_id!r} in this workspace")
        return text.count("\n", 0, max(0, offset)) + 1

    # -- maintenance ------------------------------------------------------------------------

    def rebuild_vectors(self, progress: ProgressCallback | None = None) -> int:
        """Drop the chroma collection and re-embed every live chunk from the manifest."""
        report = _progress(progress)
        with self._writer:
            self.store.reset()
            total, done = self.manifest.live_chunk_count(), 0
            for rows in self.manifest.iter_live_chunks(EMBED_GROUP):
                self._add_rows(rows)
                done += len(rows)
                report("embedding", done, total)
            for doc, version in self.manifest.pending():
                self.manifest.clear_pending(doc, version)
            return done

    def _add_rows(self, rows: Sequence[object]) -> None:
        chunks = [r.chunk for r in rows]  # type: ignore[attr-defined]
        versions = [r.version for r in rows]  # type: ignore[attr-defined]
        vectors = self.embedder.embed([c.text for c in chunks])
        metas: list[dict[str, str | int]] = [
            {"document_id": c.document_id, "version": v, "page": c.page}
            for c, v in zip(chunks, versions, strict=True)
        ]
        self.store.add([c.id for c in chunks], vectors, metas)

    def recover(self) -> RecoveryReport:
        """Bring chroma in line with the manifest after a crash: delete the vectors of versions
        that never became live (or were replaced/removed), and re-embed live chunks whose
        vectors are missing. Cheap when nothing is wrong (two counts)."""
        with self._writer:
            pending = self.manifest.pending()
            for doc, version in pending:
                row = self.manifest.document(doc)
                if row is None or row.version != version:
                    self.store.delete_version(doc, version)
                self.manifest.clear_pending(doc, version)
            orphans = restored = 0
            if self.store.count() != self.manifest.live_chunk_count():
                have, live = self.store.all_ids(), self.manifest.live_chunk_ids()
                stray = sorted(have - live)
                self.store.delete_ids(stray)
                orphans = len(stray)
                missing = live - have
                if missing:
                    for rows in self.manifest.iter_live_chunks(EMBED_GROUP):
                        todo = [r for r in rows if r.chunk.id in missing]
                        if todo:
                            self._add_rows(todo)
                            restored += len(todo)
            return RecoveryReport(len(pending), orphans, restored)

    def stats(self) -> dict[str, int | str]:
        out: dict[str, int | str] = dict(self.manifest.counts())
        out["vectors"] = self.store.count()
        out["embedder"] = self.embedder.name
        out["dimension"] = int(self.embedder.dimension)
        return out

    def close(self) -> None:
        with self._writer:
            self.store.close()
            self.manifest.close()
        self._release()

    def __enter__(self) -> WorkspaceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_extract(path: Path, *, password: str | None, limits: ParseLimits | None) -> ExtractResult:
    """rag.extract.extract, with any unexpected exception turned into a rejection."""
    from rag.extract import ExtractResult, extract
    from rag.limits import ParseLimits

    try:
        return extract(path, password=password, limits=limits or ParseLimits())
    except Exception as exc:
        log.warning("extraction failed unexpectedly: %s", type(exc).__name__)
        return ExtractResult(
            outcome="rejected",
            parsed=None,
            reason=f"It could not be read (internal error: {type(exc).__name__}).",
            warnings=[],
        )


def check_chunks(parsed: ParsedDocument, chunks: Sequence[Chunk]) -> str | None:
    """Why `chunks` cannot be trusted as spans of `parsed.text`, or None when they can."""
    n = len(parsed.text)
    for ch in chunks:
        if not (0 <= ch.start < ch.end <= n) or parsed.text[ch.start : ch.end] != ch.text:
            return "Internal error: a passage does not match the document's text; not indexed."
    if not any(ch.text.strip() for ch in chunks):
        return "No text could be found in it."
    return None


def _report(row: DocumentRow, outcome: Outcome) -> IngestReport:
    return IngestReport(
        document_id=row.id,
        name=row.name,
        path=row.path,
        outcome=outcome,
        chunk_count=row.chunk_count,
        pages=row.pages,
        reason=row.reason,
        warnings=list(row.warnings),
    )


def _progress(callback: ProgressCallback | None) -> ProgressCallback:
    if callback is None:
        return lambda stage, done, total: None
    return callback


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
