"""Conversations, messages and their citations, persisted in SQLite (WAL).

One connection per thread (sqlite3 objects must not cross threads); writes are serialised by
SQLite itself. Schema changes go through the MIGRATIONS list (PRAGMA user_version).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.errors import EnclaveError
from rag.types import Citation

MIGRATIONS: list[str] = [
    """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        title TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX conversations_workspace ON conversations(workspace_id, updated_at);
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        created_at TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX messages_conversation ON messages(conversation_id, seq);
    CREATE TABLE citations (
        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        document TEXT NOT NULL,
        path TEXT NOT NULL,
        page INTEGER NOT NULL,
        quote TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        chunk_id TEXT NOT NULL,
        verified INTEGER NOT NULL,
        PRIMARY KEY (message_id, n)
    );
    """,
]


class ConversationNotFound(EnclaveError):
    """No conversation has that id (deleted, or from another installation)."""


@dataclass(frozen=True)
class Conversation:
    id: str
    workspace_id: str
    title: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class StoredMessage:
    id: str
    conversation_id: str
    role: str
    content: str
    created_at: str
    meta: dict[str, Any] = field(default_factory=dict)
    citations: list[Citation] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class HistoryStore:
    def __init__(self, db_path: Path) -> None:
        self._path = db_path
        self._local = threading.local()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def _migrate(self) -> None:
        conn = self._conn()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with conn:
                conn.executescript(script)
                conn.execute(f"PRAGMA user_version={number}")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- conversations -------------------------------------------------------------------
    def create_conversation(self, workspace_id: str, title: str) -> Conversation:
        now = _now()
        conv = Conversation(uuid.uuid4().hex, workspace_id, _title(title), now, now)
        with self._conn() as conn:
            conn.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                (conv.id, conv.workspace_id, conv.title, conv.created_at, conv.updated_at),
            )
        return conv

    def conversation(self, conversation_id: str) -> Conversation:
        row = (
            self._conn()
            .execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
            .fetchone()
        )
        if row is None:
            raise ConversationNotFound(f"There is no conversation {conversation_id!r}.")
        return Conversation(**dict(row))

    def conversations(self, workspace_id: str) -> list[Conversation]:
        rows = (
            self._conn()
            .execute(
                "SELECT * FROM conversations WHERE workspace_id = ? ORDER BY updated_at DESC",
                (workspace_id,),
            )
            .fetchall()
        )
        return [Conversation(**dict(r)) for r in rows]

    def rename_conversation(self, conversation_id: str, title: str) -> None:
        with self._conn() as conn:
            conn.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (_title(title), conversation_id)
            )

    def delete_conversation(self, conversation_id: str) -> None:
        with self._conn() as conn:
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def delete_workspace(self, workspace_id: str) -> None:
        with self._conn() as conn:
            conn.execute("DELETE FROM conversations WHERE workspace_id = ?", (workspace_id,))

    def search(self, workspace_id: str, text: str) -> list[Conversation]:
        """Conversations of a workspace whose title or messages contain `text` (any case)."""
        pattern = f"%{text.replace('%', '').replace('_', '')}%"
        rows = (
            self._conn()
            .execute(
                """SELECT DISTINCT c.* FROM conversations c LEFT JOIN messages m
               ON m.conversation_id = c.id
               WHERE c.workspace_id = ? AND (c.title LIKE ? OR m.content LIKE ?)
               ORDER BY c.updated_at DESC""",
                (workspace_id, pattern, pattern),
            )
            .fetchall()
        )
        return [Conversation(**dict(r)) for r in rows]

    # -- messages ------------------------------------------------------------------------
    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        meta: dict[str, Any] | None = None,
        citations: list[Citation] | None = None,
    ) -> StoredMessage:
        msg = StoredMessage(
            uuid.uuid4().hex, conversation_id, role, content, _now(), meta or {}, citations or []
        )
        with self._conn() as conn:
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                (msg.id, conversation_id, seq, role, content, msg.created_at, json.dumps(msg.meta)),
            )
            conn.executemany(
                "INSERT INTO citations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        msg.id,
                        c.n,
                        c.document,
                        c.path,
                        c.page,
                        c.quote,
                        c.start,
                        c.end,
                        c.chunk_id,
                        int(c.verified),
                    )
                    for c in msg.citations
                ],
            )
            conn.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (msg.created_at, conversation_id),
            )
        return msg

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        conn = self._conn()
        rows = conn.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
        ).fetchall()
        result = []
        for row in rows:
            cites = conn.execute(
                "SELECT * FROM citations WHERE message_id = ? ORDER BY n", (row["id"],)
            ).fetchall()
            result.append(
                StoredMessage(
                    id=row["id"],
                    conversation_id=conversation_id,
                    role=row["role"],
                    content=row["content"],
                    created_at=row["created_at"],
                    meta=json.loads(row["meta"]),
                    citations=[
                        Citation(
                            n=c["n"],
                            document=c["document"],
                            path=c["path"],
                            page=c["page"],
                            quote=c["quote"],
                            start=c["start"],
                            end=c["end"],
                            chunk_id=c["chunk_id"],
                            verified=bool(c["verified"]),
                        )
                        for c in cites
                    ],
                )
            )
        return result

    def delete_last_exchange(self, conversation_id: str) -> None:
        """Used by Regenerate: drop the newest question and everything after it (its answer, if
        any); the question is then asked, and stored, again. Citations go with their answer."""
        with self._conn() as conn:
            conn.execute(
                """DELETE FROM messages WHERE conversation_id = ? AND seq >= (
                     SELECT MAX(seq) FROM messages WHERE conversation_id = ? AND role = 'user')""",
                (conversation_id, conversation_id),
            )

    def delete_last_assistant_message(self, conversation_id: str) -> None:
        """Used by Regenerate: drop the newest answer so it can be asked again."""
        with self._conn() as conn:
            conn.execute(
                """DELETE FROM messages WHERE id = (SELECT id FROM messages
                   WHERE conversation_id = ? AND role = 'assistant' ORDER BY seq DESC LIMIT 1)""",
                (conversation_id,),
            )


def _title(text: str) -> str:
    line = " ".join(text.split())
    return (line[:77] + "...") if len(line) > 80 else (line or "New conversation")


_SPACES = re.compile(r"\s+")


def transcript(messages: Sequence[StoredMessage]) -> list[tuple[str, StoredMessage | None]]:
    """(question, answer) pairs of a stored conversation, in order.

    A question stored twice in a row (Regenerate before version 0.2 kept the first copy) is
    shown once.
    An answer is None when the question was never answered (an error, or the app was closed).
    """
    pairs: list[tuple[str, StoredMessage | None]] = []
    for msg in messages:
        if msg.role == "user":
            if pairs and pairs[-1][1] is None and _same(pairs[-1][0], msg.content):
                pairs.pop()
            pairs.append((msg.content, None))
        elif msg.role == "assistant" and pairs and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], msg)
    return pairs


def _same(a: str, b: str) -> bool:
    return _SPACES.sub(" ", a.strip()) == _SPACES.sub(" ", b.strip())
