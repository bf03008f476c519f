"""A shared workspace's manifest on the team PostgreSQL (schema: rag.pg_schema).

The same contract as rag.manifest.Manifest (rag.storage.ManifestStore) for the rows of one
workspace: the source of truth, with the chunks' text, FTS5-identical postings for the lexical
index (rag.pg_lexical), the extracted text and pages. The database decides who sees what:
row-level security shows a login role only the workspaces whose member list names it, so a
non-member opening a workspace finds nothing (SharedWorkspaceNotFound).

Writers are serialised per workspace by the database (rag.pg_lock.AdvisoryWriterLock: an
advisory transaction lock held while one ingest, removal or recovery runs); readers never wait.
Every method is thread-safe (one connection per object, guarded by a re-entrant lock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rag.errors import DocumentError
from rag.manifest import (
    _DOC_COLUMNS,
    ChunkRow,
    DocumentRow,
    EmbedderMismatchError,
    _doc_row,
    _doc_values,
    _sentence,
    now_iso,
)
from rag.pg_lexical import Bm25, query_phrases
from rag.types import Chunk, Outcome, Page
from rag.word_tokens import WordTokenizer

Connect = Callable[[], Any]  # returns a new psycopg.Connection (autocommit)


class SharedStoreUnavailable(DocumentError):
    """The team database (or vector server) cannot be reached or refused the login."""


class SharedWorkspaceNotFound(DocumentError):
    """No such shared workspace, or this login is not one of its members (the same to us)."""


def is_connection_error(exc: BaseException) -> bool:
    import psycopg

    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


class PgManifest:
    """Workspace `workspace_id`'s manifest, through connections made by `connect()`."""

    def __init__(self, connect: Connect, workspace_id: str, *, where: str = "the team database"):
        self.workspace_id = workspace_id
        self.where = where
        self._lock = threading.RLock()
        self._tokenizer = WordTokenizer()
        self._conn = connect()
        rows = self._read("SELECT id FROM enclave.workspaces WHERE id = %s", (workspace_id,))
        if not rows:
            self.close()
            raise SharedWorkspaceNotFound(
                f"There is no shared workspace {workspace_id!r} on {where} that you are a "
                "member of; ask one of its members to add you."
            )

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._lock, self._guard(), self._conn.transaction():
            yield self._conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            if is_connection_error(exc):
                raise SharedStoreUnavailable(
                    f"The connection to {self.where} was lost; try again when it is back."
                ) from exc
            raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._guard():
            return [tuple(r) for r in self._conn.execute(sql, params).fetchall()]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            self._tokenizer.close()

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        column = {
            "embedder_name": "embedder_name",
            "embedder_dimension": "embedder_dimension",
            "version_seq": "version_seq",
        }.get(key)
        if column is None:
            return None
        rows = self._read(
            f"SELECT {column} FROM enclave.workspaces WHERE id = %s", (self.workspace_id,)
        )
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def check_embedder(self, name: str, dimension: int) -> bool:
        with self.transaction() as c:
            got = c.execute(
                "SELECT embedder_name, embedder_dimension FROM enclave.workspaces "
                "WHERE id = %s FOR UPDATE",
                (self.workspace_id,),
            ).fetchone()
            if got[0] is None:
                c.execute(
                    "UPDATE enclave.workspaces SET embedder_name = %s, embedder_dimension = %s "
                    "WHERE id = %s",
                    (name, dimension, self.workspace_id),
                )
                return True
        if got[0] != name or int(got[1]) != dimension:
            raise EmbedderMismatchError(
                f"This workspace was indexed with the embedding model '{got[0]}' ({got[1]} "
                f"dimensions), not '{name}' ({dimension} dimensions). Open it with the same model."
            )
        return False

    def set_version_seq(self, value: int) -> None:
        """Never hand out a version at or below `value` (used when a workspace moves here)."""
        with self.transaction() as c:
            c.execute(
                "UPDATE enclave.workspaces SET version_seq = greatest(version_seq, %s) "
                "WHERE id = %s",
                (value, self.workspace_id),
            )

    # -- documents --------------------------------------------------------------------------
    def document(self, doc_id: str) -> DocumentRow | None:
        rows = self._read(
            f"SELECT {_DOC_COLUMNS} FROM enclave.documents WHERE workspace_id = %s AND id = %s",
            (self.workspace_id, doc_id),
        )
        return _doc_row(rows[0]) if rows else None

    def documents(self) -> list[DocumentRow]:
        rows = self._read(
            f"SELECT {_DOC_COLUMNS} FROM enclave.documents WHERE workspace_id = %s "
            'ORDER BY name COLLATE "C", path COLLATE "C"',
            (self.workspace_id,),
        )
        return [_doc_row(r) for r in rows]

    def begin_version(self, doc_id: str) -> int:
        with self.transaction() as c:
            version = int(
                c.execute(
                    "UPDATE enclave.workspaces SET version_seq = version_seq + 1 WHERE id = %s "
                    "RETURNING version_seq",
                    (self.workspace_id,),
                ).fetchone()[0]
            )
            c.execute(
                "INSERT INTO enclave.pending_vectors VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (self.workspace_id, doc_id, version),
            )
        return version

    def pending(self) -> list[tuple[str, int]]:
        rows = self._read(
            "SELECT document_id, version FROM enclave.pending_vectors WHERE workspace_id = %s",
            (self.workspace_id,),
        )
        return [(r[0], int(r[1])) for r in rows]

    def clear_pending(self, doc_id: str, version: int) -> None:
        with self.transaction() as c:
            c.execute(
                "DELETE FROM enclave.pending_vectors WHERE workspace_id = %s AND document_id = %s "
                "AND version = %s",
                (self.workspace_id, doc_id, version),
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
        """One transaction, as Manifest.commit_version."""
        row = DocumentRow(
            id=doc_id,
            name=name,
            path=path,
            sha256=sha256,
            size=size,
            mtime=mtime,
            status=status,
            chunk_count=len(chunks),
            pages=len(pages),
            reason="",
            warnings=list(warnings),
            version=version,
            ingested_at=now_iso(),
            last_attempt_sha256=sha256,
            last_attempt_outcome=status,
        )
        tokens = self._tokenizer.tokens([ch.text for ch in chunks])
        with self.transaction() as c:
            old = c.execute(
                "SELECT version FROM enclave.documents WHERE workspace_id = %s AND id = %s "
                "FOR UPDATE",
                (self.workspace_id, doc_id),
            ).fetchone()
            old_version = int(old[0]) if old else 0
            self._write_document(c, row, chunks, tokens, text, pages)
            c.execute(
                "DELETE FROM enclave.pending_vectors WHERE workspace_id = %s AND document_id = %s "
                "AND version = %s",
                (self.workspace_id, doc_id, version),
            )
            if old_version and old_version != version:
                c.execute(
                    "INSERT INTO enclave.pending_vectors VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (self.workspace_id, doc_id, old_version),
                )
        return old_version

    def import_document(
        self, row: DocumentRow, chunks: Sequence[Chunk], text: str | None, pages: Sequence[Page]
    ) -> None:
        """Write a document exactly as another manifest holds it (a workspace moving here)."""
        tokens = self._tokenizer.tokens([ch.text for ch in chunks])
        with self.transaction() as c:
            self._write_document(c, row, chunks, tokens, text, pages)

    def _write_document(
        self,
        c: Any,
        row: DocumentRow,
        chunks: Sequence[Chunk],
        tokens: Sequence[Any],
        text: str | None,
        pages: Sequence[Page],
    ) -> None:
        ws, doc_id = self.workspace_id, row.id
        for table in ("chunks", "document_texts", "pages"):
            c.execute(
                f"DELETE FROM enclave.{table} WHERE workspace_id = %s AND document_id = %s",
                (ws, doc_id),
            )
        c.execute(
            f"INSERT INTO enclave.documents(workspace_id, {_DOC_COLUMNS}) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, "
            "path = excluded.path, sha256 = excluded.sha256, size = excluded.size, "
            "mtime = excluded.mtime, status = excluded.status, "
            "chunk_count = excluded.chunk_count, pages = excluded.pages, "
            "reason = excluded.reason, warnings = excluded.warnings, "
            "version = excluded.version, ingested_at = excluded.ingested_at, "
            "last_attempt_sha256 = excluded.last_attempt_sha256, "
            "last_attempt_outcome = excluded.last_attempt_outcome",
            (ws, *_doc_values(row)),
        )
        cur = c.cursor()
        if chunks:  # COPY is not allowed under row-level security: one INSERT from arrays
            c.execute(
                "INSERT INTO enclave.chunks(workspace_id, id, document_id, version, seq, page, "
                'start, "end", text, ntokens) SELECT %s, u.id, %s, %s, u.seq, u.page, u.s, u.e, '
                "u.t, u.n FROM unnest(%s::text[], %s::int[], %s::int[], %s::int[], %s::int[], "
                "%s::text[], %s::int[]) WITH ORDINALITY AS u(id, seq, page, s, e, t, n, o) "
                "ORDER BY u.o",
                (
                    ws,
                    doc_id,
                    row.version,
                    [ch.id for ch in chunks],
                    list(range(len(chunks))),
                    [ch.page for ch in chunks],
                    [ch.start for ch in chunks],
                    [ch.end for ch in chunks],
                    [ch.text for ch in chunks],
                    [tok.count for tok in tokens],
                ),
            )
            rids = dict(
                c.execute(
                    "SELECT id, rid FROM enclave.chunks WHERE workspace_id = %s "
                    "AND document_id = %s",
                    (ws, doc_id),
                ).fetchall()
            )
            terms: list[str] = []
            chunk_rids: list[int] = []
            positions: list[str] = []
            lengths: list[int] = []
            for ch, tok in zip(chunks, tokens, strict=True):
                for term, where in tok.positions.items():
                    terms.append(term)
                    chunk_rids.append(rids[ch.id])
                    positions.append("{" + ",".join(map(str, where)) + "}")
                    lengths.append(tok.count)
            c.execute(
                "INSERT INTO enclave.postings(workspace_id, term, chunk_rid, positions, tf, "
                "ntokens) SELECT %s, u.t, u.r, u.p::int[], cardinality(u.p::int[]), u.n "
                "FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::int[]) AS u(t, r, p, n)",
                (ws, terms, chunk_rids, positions, lengths),
            )
        if text is not None:
            c.execute(
                "INSERT INTO enclave.document_texts VALUES (%s, %s, %s, %s)",
                (ws, doc_id, row.version, text),
            )
        if pages:
            cur.executemany(
                "INSERT INTO enclave.pages VALUES (%s, %s, %s, %s, %s)",
                [(ws, doc_id, p.number, p.start, p.end) for p in pages],
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
        with self.transaction():
            current = self.document(doc_id)
            if current is not None and current.is_live:
                self._update(
                    doc_id,
                    reason=f"The latest attempt to index this file failed: {_sentence(reason)} "
                    "The previously indexed version is still searchable.",
                    last_attempt_sha256=sha256,
                    last_attempt_outcome=outcome,
                )
            else:
                failed = DocumentRow(
                    doc_id,
                    name,
                    path,
                    sha256,
                    size,
                    mtime,
                    outcome,
                    0,
                    0,
                    reason,
                    list(warnings),
                    0,
                    now_iso(),
                    sha256,
                    outcome,
                )
                self._write_document(self._conn, failed, [], [], None, [])
            after = self.document(doc_id)
            assert after is not None
            return after

    def clear_failure_note(self, doc_id: str) -> DocumentRow:
        with self.transaction() as c:
            c.execute(
                "UPDATE enclave.documents SET reason = '', last_attempt_sha256 = sha256, "
                "last_attempt_outcome = status WHERE workspace_id = %s AND id = %s",
                (self.workspace_id, doc_id),
            )
            after = self.document(doc_id)
            assert after is not None
            return after

    def _update(self, doc_id: str, **values: Any) -> None:
        sets = ", ".join(f"{k} = %s" for k in values)
        self._conn.execute(
            f"UPDATE enclave.documents SET {sets} WHERE workspace_id = %s AND id = %s",
            (*values.values(), self.workspace_id, doc_id),
        )

    def remove_document(self, doc_id: str) -> bool:
        with self.transaction() as c:
            row = c.execute(
                "SELECT version FROM enclave.documents WHERE workspace_id = %s AND id = %s "
                "FOR UPDATE",
                (self.workspace_id, doc_id),
            ).fetchone()
            if row is None:
                return False
            for table in ("chunks", "document_texts", "pages"):
                c.execute(
                    f"DELETE FROM enclave.{table} WHERE workspace_id = %s AND document_id = %s",
                    (self.workspace_id, doc_id),
                )
            c.execute(
                "DELETE FROM enclave.documents WHERE workspace_id = %s AND id = %s",
                (self.workspace_id, doc_id),
            )
            if int(row[0]):
                c.execute(
                    "INSERT INTO enclave.pending_vectors VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (self.workspace_id, doc_id, int(row[0])),
                )
        return True

    # -- chunks -----------------------------------------------------------------------------
    _CHUNK_SELECT = (
        'SELECT c.id, c.document_id, c.page, c.start, c."end", c.text, c.version, d.name, d.path '
        "FROM enclave.chunks c JOIN enclave.documents d "
        "ON d.workspace_id = c.workspace_id AND d.id = c.document_id WHERE c.workspace_id = %s "
    )

    @staticmethod
    def _chunk_row(r: tuple[Any, ...]) -> ChunkRow:
        chunk = Chunk(
            id=r[0], document_id=r[1], page=int(r[2]), start=int(r[3]), end=int(r[4]), text=r[5]
        )
        return ChunkRow(chunk=chunk, version=int(r[6]), document_name=r[7], path=r[8])

    def live_chunks(self, ids: Sequence[str]) -> dict[str, ChunkRow]:
        if not ids:
            return {}
        rows = self._read(self._CHUNK_SELECT + "AND c.id = ANY(%s)", (self.workspace_id, list(ids)))
        return {r[0]: self._chunk_row(r) for r in rows}

    def chunk(self, chunk_id: str) -> ChunkRow | None:
        rows = self._read(self._CHUNK_SELECT + "AND c.id = %s", (self.workspace_id, chunk_id))
        return self._chunk_row(rows[0]) if rows else None

    def opening_chunk(self, doc_id: str) -> ChunkRow | None:
        rows = self._read(
            self._CHUNK_SELECT + "AND c.document_id = %s ORDER BY c.seq LIMIT 1",
            (self.workspace_id, doc_id),
        )
        return self._chunk_row(rows[0]) if rows else None

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        rows = self._read(
            self._CHUNK_SELECT + "AND c.document_id = %s ORDER BY c.seq",
            (self.workspace_id, doc_id),
        )
        return [self._chunk_row(r).chunk for r in rows]

    def iter_live_chunks(self, batch: int = 512) -> Iterator[list[ChunkRow]]:
        last = -1
        while True:
            rows = self._read(
                'SELECT c.id, c.document_id, c.page, c.start, c."end", c.text, c.version, '
                "d.name, d.path, c.rid FROM enclave.chunks c JOIN enclave.documents d "
                "ON d.workspace_id = c.workspace_id AND d.id = c.document_id "
                "WHERE c.workspace_id = %s AND c.rid > %s ORDER BY c.rid LIMIT %s",
                (self.workspace_id, last, batch),
            )
            if not rows:
                return
            last = int(rows[-1][9])
            yield [self._chunk_row(r[:9]) for r in rows]

    def live_chunk_ids(self) -> set[str]:
        rows = self._read(
            "SELECT id FROM enclave.chunks WHERE workspace_id = %s", (self.workspace_id,)
        )
        return {r[0] for r in rows}

    def live_chunk_count(self) -> int:
        rows = self._read(
            "SELECT count(*) FROM enclave.chunks WHERE workspace_id = %s", (self.workspace_id,)
        )
        return int(rows[0][0])

    def lexical(
        self, query: str, n: int, documents: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """BM25 top-`n` live chunk ids, as Manifest.lexical ranks them (rag.pg_lexical)."""
        if n <= 0 or (documents is not None and not documents):
            return []
        phrases = query_phrases(query, self._tokenizer)
        if not phrases:
            return []
        with self._lock, self._guard(), self._conn.transaction():
            # one snapshot for the statistics, the candidates and their scores
            self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

            def read(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
                return [tuple(r) for r in self._conn.execute(sql, params).fetchall()]

            return Bm25(read, self.workspace_id).top(phrases, n, documents)

    # -- text -------------------------------------------------------------------------------
    def document_text(self, doc_id: str) -> str | None:
        rows = self._read(
            "SELECT text FROM enclave.document_texts WHERE workspace_id = %s AND document_id = %s",
            (self.workspace_id, doc_id),
        )
        return rows[0][0] if rows else None

    def pages(self, doc_id: str) -> list[Page]:
        rows = self._read(
            'SELECT number, start, "end" FROM enclave.pages WHERE workspace_id = %s '
            "AND document_id = %s ORDER BY number",
            (self.workspace_id, doc_id),
        )
        return [Page(number=int(r[0]), start=int(r[1]), end=int(r[2])) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self._read(
            "SELECT status, count(*) FROM enclave.documents WHERE workspace_id = %s "
            "GROUP BY status",
            (self.workspace_id,),
        )
        out = {f"documents_{s}": int(n) for s, n in rows}
        out["documents"] = sum(out.values())
        out["chunks"] = self.live_chunk_count()
        out["pending_versions"] = len(self.pending())
        return out
