"""The SQLite manifest of one workspace: the source of truth for what is indexed.

Tables: documents (one row per file path), chunks (the live version's chunks, with text),
chunks_fts (an FTS5 index over chunk text, kept in step by triggers, ranked with bm25()),
document_texts and pages (the extracted text, for exact spans), pending_vectors (versions whose
vectors may exist in chroma without being live: written before a commit, or awaiting deletion
after one) and meta (schema version, embedder identity, version counter).

Every method is thread-safe: one connection guarded by a re-entrant lock, WAL journal,
synchronous=FULL so that a committed document survives a killed process or a power cut.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from rag.errors import DocumentError
from rag.types import Chunk, DocumentRecord, Outcome, Page

SCHEMA_VERSION = 1
MAX_QUERY_TERMS = 64
WRITE_BUSY_MS = 30000  # the one writing process waits this long for a reader's checkpoint
READ_BUSY_MS = 1500  # a read-only reader answers, or says the index is busy, well within 2 s

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    mtime REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    warnings TEXT NOT NULL DEFAULT '[]',
    version INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL,
    last_attempt_sha256 TEXT NOT NULL DEFAULT '',
    last_attempt_outcome TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS chunks(
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    page INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id, seq);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='rid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.rid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rid, old.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_au AFTER UPDATE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rid, old.text);
    INSERT INTO chunks_fts(rowid, text) VALUES (new.rid, new.text);
END;
CREATE TABLE IF NOT EXISTS document_texts(
    document_id TEXT PRIMARY KEY, version INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pages(
    document_id TEXT NOT NULL, number INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    PRIMARY KEY(document_id, number)
);
CREATE TABLE IF NOT EXISTS ocr_pages(
    document_id TEXT NOT NULL, number INTEGER NOT NULL, PRIMARY KEY(document_id, number)
);
CREATE TABLE IF NOT EXISTS pending_vectors(
    document_id TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY(document_id, version)
);
"""

# Whether a chunk's page was read by OCR (a page listed in ocr_pages).
_OCR_FLAG = (
    "EXISTS(SELECT 1 FROM ocr_pages o WHERE o.document_id = c.document_id AND o.number = c.page)"
)

_TERM_SPLIT_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"\w", re.UNICODE)


class EmbedderMismatchError(DocumentError):
    """The workspace was built with another embedding model than the one given."""


class ManifestError(DocumentError):
    """The manifest file cannot be used (not an Enclave index, or a newer schema)."""


class ManifestBusyError(DocumentError):
    """A read-only open waited READ_BUSY_MS for another process's write and gave up."""


def _busy_sentence(path: Path) -> str:
    return f"The index at {path.parent} is being written by another process; try again in a moment."


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    if not read_only:
        return sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=WRITE_BUSY_MS / 1000
        )
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        isolation_level=None,
        check_same_thread=False,
        timeout=READ_BUSY_MS / 1000,
    )
    conn.execute(f"PRAGMA busy_timeout={READ_BUSY_MS}")
    return conn


def fts_query(text: str) -> str:
    """Turn free text into a safe FTS5 query: each whitespace-separated term becomes a quoted
    phrase (so `2:19-cv-01234` must match as a sequence), joined with OR. FTS5 operators and
    punctuation in the input are never interpreted. Returns '' when no term has a word character.
    """
    phrases: list[str] = []
    seen: set[str] = set()
    for term in _TERM_SPLIT_RE.split(text):
        if not _WORD_RE.search(term):
            continue
        key = term.lower()
        if key in seen:
            continue
        seen.add(key)
        phrases.append('"' + term.replace('"', '""') + '"')
        if len(phrases) >= MAX_QUERY_TERMS:
            break
    return " OR ".join(phrases)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class DocumentRow:
    """Everything the manifest stores about one document (a superset of DocumentRecord)."""

    id: str
    name: str
    path: str
    sha256: str
    size: int
    mtime: float
    status: Outcome
    chunk_count: int
    pages: int
    reason: str
    warnings: list[str]
    version: int
    ingested_at: str
    last_attempt_sha256: str
    last_attempt_outcome: str

    @property
    def is_live(self) -> bool:
        """True when a version of this document is searchable."""
        return self.version > 0 and self.chunk_count > 0

    def record(self) -> DocumentRecord:
        return DocumentRecord(
            id=self.id,
            name=self.name,
            path=self.path,
            sha256=self.sha256,
            status=self.status,
            chunk_count=self.chunk_count,
            pages=self.pages,
            reason=self.reason,
            warnings=list(self.warnings),
            ingested_at=self.ingested_at,
        )


@dataclass(frozen=True)
class ChunkRow:
    chunk: Chunk
    version: int
    document_name: str
    path: str


_DOC_COLUMNS = (
    "id, name, path, sha256, size, mtime, status, chunk_count, pages, reason, warnings, "
    "version, ingested_at, last_attempt_sha256, last_attempt_outcome"
)


def _doc_row(row: sqlite3.Row | tuple[Any, ...]) -> DocumentRow:
    r = tuple(row)
    return DocumentRow(
        id=r[0],
        name=r[1],
        path=r[2],
        sha256=r[3],
        size=int(r[4]),
        mtime=float(r[5]),
        status=cast(Outcome, r[6]),
        chunk_count=int(r[7]),
        pages=int(r[8]),
        reason=r[9],
        warnings=list(json.loads(r[10] or "[]")),
        version=int(r[11]),
        ingested_at=r[12],
        last_attempt_sha256=r[13],
        last_attempt_outcome=r[14],
    )


def _doc_values(row: DocumentRow) -> tuple[Any, ...]:
    """The values of `_DOC_COLUMNS` for `row`, in order (the inverse of `_doc_row`)."""
    return (
        row.id, row.name, row.path, row.sha256, row.size, row.mtime, row.status,
        row.chunk_count, row.pages, row.reason, json.dumps(list(row.warnings)), row.version,
        row.ingested_at, row.last_attempt_sha256, row.last_attempt_outcome,
    )  # fmt: skip


class Manifest:
    """The manifest database at `path` (created if missing)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """`read_only`: only read (no schema set-up, no write ever), waiting at most
        READ_BUSY_MS for a writer in another process; WAL lets it read while one writes."""
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self._conn = _connect(path, read_only=read_only)
        try:
            if read_only:
                self._check_version()
            else:
                self._setup()
            if not self._has_table("ocr_pages"):  # an older index, opened read-only
                self._CHUNK_SELECT = self._CHUNK_SELECT.replace(_OCR_FLAG, "0")
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if read_only and "locked" in str(exc):
                raise ManifestBusyError(_busy_sentence(path)) from exc
            raise ManifestError(f"{path} is not a readable Enclave index: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ManifestError(f"{path} is not a readable Enclave index: {exc}") from exc

    @property
    def total_changes(self) -> int:
        """Rows changed through this connection so far (a write leaves a trace here)."""
        return int(self._conn.total_changes)

    def _has_table(self, name: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM sqlite_master WHERE name=?", (name,)).fetchone()
        return row is not None

    def check_lexical_index(self) -> None:
        """SQLite's own check that the BM25 index agrees with its content table; raises
        sqlite3.DatabaseError when it does not."""
        with self._lock:
            self._conn.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")

    def _setup(self) -> None:
        c = self._conn
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")
        c.execute(f"PRAGMA busy_timeout={WRITE_BUSY_MS}")
        self._check_version()
        with self._lock:
            c.executescript(_SCHEMA)  # idempotent DDL, statement by statement
            c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _check_version(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise ManifestError(
                f"This index was written by a newer Enclave (schema {version}); update Enclave."
            )

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back on any error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return [tuple(r) for r in self._conn.execute(sql, params).fetchall()]
            except sqlite3.OperationalError as exc:
                if self.read_only and "locked" in str(exc):
                    raise ManifestBusyError(_busy_sentence(self.path)) from exc
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def check_embedder(self, name: str, dimension: int) -> bool:
        """Record the embedder on first use (returns True then: a fresh manifest); refuse a
        different one afterwards (EmbedderMismatchError)."""
        with self.transaction() as c:
            got = dict(c.execute("SELECT key, value FROM meta WHERE key LIKE 'embedder_%'"))
            if not got:
                c.execute("INSERT INTO meta VALUES ('embedder_name', ?)", (name,))
                c.execute("INSERT INTO meta VALUES ('embedder_dimension', ?)", (str(dimension),))
                return True
        if got.get("embedder_name") != name or got.get("embedder_dimension") != str(dimension):
            raise EmbedderMismatchError(
                "This workspace was indexed with the embedding model "
                f"'{got.get('embedder_name')}' ({got.get('embedder_dimension')} dimensions), "
                f"not '{name}' ({dimension} dimensions). Open it with the same model, or "
                "re-index it (rebuild) with the new one."
            )
        return False

    # -- documents --------------------------------------------------------------------------

    def document(self, doc_id: str) -> DocumentRow | None:
        rows = self._read(f"SELECT {_DOC_COLUMNS} FROM documents WHERE id=?", (doc_id,))
        return _doc_row(rows[0]) if rows else None

    def document_by_path(self, path: str) -> DocumentRow | None:
        rows = self._read(f"SELECT {_DOC_COLUMNS} FROM documents WHERE path=?", (path,))
        return _doc_row(rows[0]) if rows else None

    def documents(self) -> list[DocumentRow]:
        rows = self._read(f"SELECT {_DOC_COLUMNS} FROM documents ORDER BY name, path")
        return [_doc_row(r) for r in rows]

    def begin_version(self, doc_id: str) -> int:
        """Reserve a new, never-used version number for `doc_id` and mark it pending
        (its vectors may be written to chroma before it becomes live)."""
        with self.transaction() as c:
            row = c.execute("SELECT value FROM meta WHERE key='version_seq'").fetchone()
            version = int(row[0]) + 1 if row else 1
            c.execute("INSERT OR REPLACE INTO meta VALUES ('version_seq', ?)", (str(version),))
            c.execute("INSERT OR IGNORE INTO pending_vectors VALUES (?, ?)", (doc_id, version))
        return version

    def pending(self) -> list[tuple[str, int]]:
        return [(r[0], int(r[1])) for r in self._read("SELECT * FROM pending_vectors")]

    def clear_pending(self, doc_id: str, version: int) -> None:
        with self.transaction() as c:
            c.execute(
                "DELETE FROM pending_vectors WHERE document_id=? AND version=?", (doc_id, version)
            )

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
    ) -> int:
        """In ONE transaction, make `version` the live version of the document: replace its
        chunks (and so its FTS rows), text and pages, and update its row. The previous live
        version (returned, 0 if none) is marked pending so its vectors get deleted."""
        with self.transaction() as c:
            old = c.execute("SELECT version FROM documents WHERE id=?", (doc_id,)).fetchone()
            old_version = int(old[0]) if old else 0
            c.execute("DELETE FROM chunks WHERE document_id=?", (doc_id,))
            c.executemany(
                'INSERT INTO chunks(id, document_id, version, seq, page, start, "end", text) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (ch.id, doc_id, version, seq, ch.page, ch.start, ch.end, ch.text)
                    for seq, ch in enumerate(chunks)
                ],
            )
            c.execute(
                "INSERT OR REPLACE INTO document_texts VALUES (?, ?, ?)", (doc_id, version, text)
            )
            c.execute("DELETE FROM pages WHERE document_id=?", (doc_id,))
            c.executemany(
                "INSERT INTO pages VALUES (?, ?, ?, ?)",
                [(doc_id, p.number, p.start, p.end) for p in pages],
            )
            c.execute("DELETE FROM ocr_pages WHERE document_id=?", (doc_id,))
            c.executemany(
                "INSERT INTO ocr_pages VALUES (?, ?)", [(doc_id, p.number) for p in pages if p.ocr]
            )
            c.execute(
                f"INSERT OR REPLACE INTO documents({_DOC_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
                (
                    doc_id,
                    name,
                    path,
                    sha256,
                    size,
                    mtime,
                    status,
                    len(chunks),
                    len(pages),
                    json.dumps(list(warnings)),
                    version,
                    now_iso(),
                    sha256,
                    status,
                ),
            )
            c.execute(
                "DELETE FROM pending_vectors WHERE document_id=? AND version=?", (doc_id, version)
            )
            if old_version and old_version != version:
                c.execute(
                    "INSERT OR IGNORE INTO pending_vectors VALUES (?, ?)", (doc_id, old_version)
                )
        return old_version

    def import_document(
        self, row: DocumentRow, chunks: Sequence[Chunk], text: str | None, pages: Sequence[Page]
    ) -> None:
        """Write a document exactly as another manifest holds it (a workspace moving here):
        its row as it is, its live chunks, text and pages, in one transaction."""
        with self.transaction() as c:
            for table in ("chunks", "document_texts", "pages"):
                c.execute(f"DELETE FROM {table} WHERE document_id=?", (row.id,))
            c.executemany(
                'INSERT INTO chunks(id, document_id, version, seq, page, start, "end", text) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (ch.id, row.id, row.version, seq, ch.page, ch.start, ch.end, ch.text)
                    for seq, ch in enumerate(chunks)
                ],
            )
            if text is not None:
                c.execute(
                    "INSERT INTO document_texts VALUES (?, ?, ?)", (row.id, row.version, text)
                )
            c.executemany(
                "INSERT INTO pages VALUES (?, ?, ?, ?)",
                [(row.id, p.number, p.start, p.end) for p in pages],
            )
            c.execute(
                f"INSERT OR REPLACE INTO documents({_DOC_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _doc_values(row),
            )

    def set_version_seq(self, value: int) -> None:
        """Never hand out a version at or below `value` (used when a workspace moves here)."""
        with self.transaction() as c:
            row = c.execute("SELECT value FROM meta WHERE key='version_seq'").fetchone()
            current = int(row[0]) if row else 0
            c.execute(
                "INSERT OR REPLACE INTO meta VALUES ('version_seq', ?)", (str(max(current, value)),)
            )

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
    ) -> DocumentRow:
        """Record a file that could not be indexed. A live previous version stays live (and
        keeps its status); the reason then says the newer file was not indexed."""
        with self.transaction() as c:
            old = c.execute(f"SELECT {_DOC_COLUMNS} FROM documents WHERE id=?", (doc_id,))
            row = old.fetchone()
            current = _doc_row(row) if row else None
            if current is not None and current.is_live:
                c.execute(
                    "UPDATE documents SET reason=?, last_attempt_sha256=?, "
                    "last_attempt_outcome=? WHERE id=?",
                    (
                        f"The latest attempt to index this file failed: {_sentence(reason)} "
                        "The previously indexed version is still searchable.",
                        sha256,
                        outcome,
                        doc_id,
                    ),
                )
            else:
                c.execute(
                    f"INSERT OR REPLACE INTO documents({_DOC_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, 0, ?, ?, ?)",
                    (
                        doc_id,
                        name,
                        path,
                        sha256,
                        size,
                        mtime,
                        outcome,
                        reason,
                        json.dumps(list(warnings)),
                        now_iso(),
                        sha256,
                        outcome,
                    ),
                )
            after = c.execute(f"SELECT {_DOC_COLUMNS} FROM documents WHERE id=?", (doc_id,))
            return _doc_row(after.fetchone())

    def clear_failure_note(self, doc_id: str) -> DocumentRow:
        """The file is back to its indexed version: forget the note about a failed update."""
        with self.transaction() as c:
            c.execute(
                "UPDATE documents SET reason='', last_attempt_sha256=sha256, "
                "last_attempt_outcome=status WHERE id=?",
                (doc_id,),
            )
            row = c.execute(f"SELECT {_DOC_COLUMNS} FROM documents WHERE id=?", (doc_id,))
            return _doc_row(row.fetchone())

    def remove_document(self, doc_id: str) -> bool:
        """Delete the document's row, chunks (and FTS rows), text and pages in one transaction;
        its live version is marked pending so that its vectors get deleted."""
        with self.transaction() as c:
            row = c.execute("SELECT version FROM documents WHERE id=?", (doc_id,)).fetchone()
            if row is None:
                return False
            for table in ("chunks", "document_texts", "pages", "ocr_pages"):
                c.execute(f"DELETE FROM {table} WHERE document_id=?", (doc_id,))
            c.execute("DELETE FROM documents WHERE id=?", (doc_id,))
            if int(row[0]):
                c.execute("INSERT OR IGNORE INTO pending_vectors VALUES (?, ?)", (doc_id, row[0]))
        return True

    # -- chunks -----------------------------------------------------------------------------

    _CHUNK_SELECT = (
        'SELECT c.id, c.document_id, c.page, c.start, c."end", c.text, c.version, d.name, d.path, '
        + _OCR_FLAG
        + " FROM chunks c JOIN documents d ON d.id = c.document_id "
    )

    @staticmethod
    def _chunk_row(r: tuple[Any, ...]) -> ChunkRow:
        chunk = Chunk(
            id=r[0],
            document_id=r[1],
            page=int(r[2]),
            start=int(r[3]),
            end=int(r[4]),
            text=r[5],
            ocr=bool(r[9]),
        )
        return ChunkRow(chunk=chunk, version=int(r[6]), document_name=r[7], path=r[8])

    def live_chunks(self, ids: Sequence[str]) -> dict[str, ChunkRow]:
        """The chunks among `ids` that are live (part of a document's current version)."""
        out: dict[str, ChunkRow] = {}
        for lo in range(0, len(ids), 500):
            part = list(ids[lo : lo + 500])
            marks = ",".join("?" * len(part))
            for r in self._read(self._CHUNK_SELECT + f"WHERE c.id IN ({marks})", part):
                out[r[0]] = self._chunk_row(r)
        return out

    def chunk(self, chunk_id: str) -> ChunkRow | None:
        rows = self._read(self._CHUNK_SELECT + "WHERE c.id=?", (chunk_id,))
        return self._chunk_row(rows[0]) if rows else None

    def opening_chunk(self, doc_id: str) -> ChunkRow | None:
        """The first live chunk of a document (its title, parties and date, in a contract)."""
        rows = self._read(
            self._CHUNK_SELECT + "WHERE c.document_id=? ORDER BY c.seq LIMIT 1", (doc_id,)
        )
        return self._chunk_row(rows[0]) if rows else None

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        rows = self._read(self._CHUNK_SELECT + "WHERE c.document_id=? ORDER BY c.seq", (doc_id,))
        return [self._chunk_row(r).chunk for r in rows]

    def iter_live_chunks(self, batch: int = 512) -> Iterator[list[ChunkRow]]:
        """Every live chunk, in batches (for rebuilding the vectors)."""
        last = -1
        while True:
            select = self._CHUNK_SELECT.replace(" FROM chunks c", ", c.rid FROM chunks c", 1)
            rows = self._read(select + "WHERE c.rid > ? ORDER BY c.rid LIMIT ?", (last, batch))
            if not rows:
                return
            last = int(rows[-1][10])
            yield [self._chunk_row(r[:10]) for r in rows]

    def live_chunk_ids(self) -> set[str]:
        return {r[0] for r in self._read("SELECT id FROM chunks")}

    def live_chunk_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM chunks")[0][0])

    def lexical(
        self, query: str, n: int, documents: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """BM25 top-`n` live chunk ids for free-text `query`, best first, with -bm25 as score
        (higher is better); only chunks of `documents` (document ids) when given. Never raises
        on odd input: it returns [] instead."""
        match = fts_query(query)
        if not match or n <= 0 or (documents is not None and not documents):
            return []
        scope, params = "", [match]
        if documents is not None:
            scope = f" AND c.document_id IN ({','.join('?' * len(documents))})"
            params += list(documents)
        try:
            rows = self._read(
                "SELECT c.id, bm25(chunks_fts) AS s FROM chunks_fts "
                "JOIN chunks c ON c.rid = chunks_fts.rowid "
                f"WHERE chunks_fts MATCH ?{scope} ORDER BY s LIMIT ?",
                (*params, n),
            )
        except sqlite3.OperationalError:
            return []
        return [(r[0], -float(r[1])) for r in rows]

    # -- text -------------------------------------------------------------------------------

    def document_text(self, doc_id: str) -> str | None:
        rows = self._read("SELECT text FROM document_texts WHERE document_id=?", (doc_id,))
        return rows[0][0] if rows else None

    def pages(self, doc_id: str) -> list[Page]:
        rows = self._read(
            'SELECT number, start, "end" FROM pages WHERE document_id=? ORDER BY number',
            (doc_id,),
        )
        return [Page(number=int(r[0]), start=int(r[1]), end=int(r[2])) for r in rows]

    def counts(self) -> dict[str, int]:
        out = {
            f"documents_{s}": int(n)
            for s, n in self._read("SELECT status, COUNT(*) FROM documents GROUP BY status")
        }
        out["documents"] = sum(out.values())
        out["chunks"] = self.live_chunk_count()
        out["pending_versions"] = len(self.pending())
        return out
