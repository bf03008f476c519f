"""Conversations, messages and their citations, persisted in SQLite (WAL).

One connection per thread (sqlite3 objects must not cross threads); writes are serialised by
SQLite itself. Schema changes go through the MIGRATIONS list (PRAGMA user_version), applied in
one transaction with the new version number, so an interrupted upgrade leaves the file as it was.

Versions (schema 2): a conversation is a list of question turns. Regenerate asks a turn's
question again and stores the new question and answer as the next version of that turn; every
version is kept, and one is chosen (the one shown, exported, copied and sent back to the model
as an earlier turn). `messages()` reads the chosen version of each turn; `answer_versions()`
all the answers of one turn. A version whose question was stored but never answered (the
model failed, the app was closed) is not counted as a version while an answered one exists.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.errors import EnclaveError
from rag.types import Citation

SCHEMA_1 = """
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
"""


def _add_answer_versions(conn: sqlite3.Connection) -> None:
    """Schema 2: every message belongs to a question turn and to a version of it; one version
    of each turn is chosen. The rows already stored are numbered into turns in their order:
    each question starts a turn, its answer is version 1 of 1, and a second answer stored after
    the same question (none should exist) is kept as version 2, not chosen, so the answer shown
    before the upgrade is the one shown after it. Nothing is deleted or rewritten."""
    for column in ("turn INTEGER NOT NULL DEFAULT 0", "version INTEGER NOT NULL DEFAULT 1",
                   "chosen INTEGER NOT NULL DEFAULT 1"):  # fmt: skip
        conn.execute(f"ALTER TABLE messages ADD COLUMN {column}")
    updates: list[tuple[int, int, int, str]] = []
    conversation, turn, answers = None, 0, 0
    rows = conn.execute(
        "SELECT id, conversation_id, role FROM messages ORDER BY conversation_id, seq"
    )
    for message_id, conversation_id, role in rows.fetchall():
        if conversation_id != conversation:
            conversation, turn, answers = conversation_id, 0, 0
        if role == "user":
            turn, answers = turn + 1, 0
            updates.append((turn, 1, 1, message_id))
        elif role == "assistant":
            answers += 1
            updates.append((turn, answers, int(answers == 1), message_id))
    conn.executemany("UPDATE messages SET turn = ?, version = ?, chosen = ? WHERE id = ?", updates)
    conn.execute("CREATE INDEX messages_turn ON messages(conversation_id, turn, version)")


MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [SCHEMA_1, _add_answer_versions]
_COLUMNS = "id, conversation_id, seq, role, content, created_at, meta, turn, version, chosen"


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
    turn: int = 0  # the question turn (1-based) it belongs to
    version: int = 1  # an answer: which of the turn's `versions` answers it is (1-based)
    versions: int = 1


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class HistoryStore:
    def __init__(self, db_path: Path) -> None:
        self._path = db_path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._new_versions: dict[str, tuple[int, str]] = {}  # conversation -> (turn, question)
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
        """Bring the file to the newest schema: one transaction (the schema version read again
        inside it, so two processes opening an old file upgrade it once)."""
        conn = self._conn()
        if conn.execute("PRAGMA user_version").fetchone()[0] >= len(MIGRATIONS):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for step in MIGRATIONS[version:]:
                if callable(step):
                    step(conn)
                else:
                    for statement in step.split(";"):
                        if statement.strip():
                            conn.execute(statement)
            conn.execute(f"PRAGMA user_version={max(version, len(MIGRATIONS))}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise

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
        """Store a message. A question starts the next turn, or, right after
        `begin_new_version` for the same question, the next version of that turn (chosen); an
        answer joins its question's turn and version."""
        msg = StoredMessage(
            uuid.uuid4().hex, conversation_id, role, content, _now(), meta or {}, citations or []
        )
        with self._lock:
            again = self._new_versions.pop(conversation_id, None) if role == "user" else None
        with self._conn() as conn:
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()[0]
            turn, version, chosen = self._place(conn, conversation_id, role, content, again)
            conn.execute(
                f"INSERT INTO messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (msg.id, conversation_id, seq, role, content, msg.created_at,
                 json.dumps(msg.meta), turn, version, chosen),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO citations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(msg.id, c.n, c.document, c.path, c.page, c.quote, c.start, c.end, c.chunk_id,
                  int(c.verified)) for c in msg.citations],
            )  # fmt: skip
            conn.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?",
                (msg.created_at, conversation_id),
            )
        return replace(msg, turn=turn)

    @staticmethod
    def _place(
        conn: sqlite3.Connection,
        conversation_id: str,
        role: str,
        content: str,
        again: tuple[int, str] | None,
    ) -> tuple[int, int, int]:
        """(turn, version, chosen) of a new message, inside add_message's transaction."""
        if role == "user":
            if again is not None and _same(again[1], content):
                turn = again[0]
                version = conn.execute(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM messages "
                    "WHERE conversation_id = ? AND turn = ?",
                    (conversation_id, turn),
                ).fetchone()[0]
                conn.execute(
                    "UPDATE messages SET chosen = 0 WHERE conversation_id = ? AND turn = ?",
                    (conversation_id, turn),
                )
                return turn, version, 1
            last = conn.execute(
                "SELECT COALESCE(MAX(turn), 0) FROM messages WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()[0]
            return last + 1, 1, 1
        asked = conn.execute(
            "SELECT turn, version, chosen FROM messages WHERE conversation_id = ? AND role = "
            "'user' ORDER BY seq DESC LIMIT 1",
            (conversation_id,),
        ).fetchone()
        turn, version, chosen = tuple(asked) if asked is not None else (0, 1, 1)
        taken = conn.execute(
            "SELECT 1 FROM messages WHERE conversation_id = ? AND turn = ? AND version = ? "
            "AND role = ?",
            (conversation_id, turn, version, role),
        ).fetchone()
        if taken is None:
            return turn, version, chosen
        # A second answer to one question (or a note): kept as a later version, not chosen.
        version = conn.execute(
            "SELECT MAX(version) + 1 FROM messages WHERE conversation_id = ? AND turn = ?",
            (conversation_id, turn),
        ).fetchone()[0]
        return turn, version, 0

    def _turns(self, conversation_id: str) -> list[_Turn]:
        conn = self._conn()
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY seq",
            (conversation_id,),
        ).fetchall()
        turns: dict[int, _Turn] = {}
        for row in rows:
            turns.setdefault(row["turn"], _Turn(row["turn"])).add(row)
        return [turns[n] for n in sorted(turns)]

    def _message(self, row: sqlite3.Row, version: int = 1, versions: int = 1) -> StoredMessage:
        cites = (
            self._conn()
            .execute("SELECT * FROM citations WHERE message_id = ? ORDER BY n", (row["id"],))
            .fetchall()
        )
        return StoredMessage(
            id=row["id"],
            conversation_id=row["conversation_id"],
            role=row["role"],
            content=row["content"],
            created_at=row["created_at"],
            meta=json.loads(row["meta"]),
            citations=[_citation(c) for c in cites],
            turn=row["turn"],
            version=version,
            versions=versions,
        )

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """The conversation as it is shown: each turn's question and its chosen answer (with
        `version` of `versions`), in order. A turn being asked again (`begin_new_version`) is
        left out until its new question is stored."""
        with self._lock:
            again = self._new_versions.get(conversation_id)
        result = []
        for turn in self._turns(conversation_id):
            if again is not None and turn.number == again[0]:
                continue
            question, answer = turn.shown()
            if question is not None:
                result.append(self._message(question))
            if answer is not None:
                answered = turn.answered()
                position = answered.index(answer["version"]) + 1
                result.append(self._message(answer, position, len(answered)))
        return result

    def answer_versions(self, message_id: str) -> list[StoredMessage]:
        """Every answer to the question turn of the answer `message_id`, oldest first (each
        with its `version` of `versions`); [] when there is no such answer."""
        row = (
            self._conn()
            .execute(
                "SELECT conversation_id, turn FROM messages WHERE id = ? AND role = 'assistant'",
                (message_id,),
            )
            .fetchone()
        )
        if row is None:
            return []
        turn = next(t for t in self._turns(row["conversation_id"]) if t.number == row["turn"])
        answered = turn.answered()
        return [
            self._message(turn.answers[v], i, len(answered))
            for i, v in enumerate(answered, start=1)
        ]

    def choose_answer(self, message_id: str) -> None:
        """Make the answer `message_id` the chosen version of its turn (shown and exported)."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT conversation_id, turn, version FROM messages WHERE id = ? "
                "AND role = 'assistant'",
                (message_id,),
            ).fetchone()
            if row is None:
                raise ConversationNotFound("That answer is no longer in the history.")
            conn.execute(
                "UPDATE messages SET chosen = (version = ?) WHERE conversation_id = ? AND turn = ?",
                (row["version"], row["conversation_id"], row["turn"]),
            )

    def begin_new_version(self, conversation_id: str) -> str | None:
        """Regenerate: the last question turn is to be asked again. Its question is returned
        (None when the conversation has none); until the same question is stored again
        (`add_message`, which makes it the turn's next version), `messages()` of this store
        leaves that turn out, so the model does not see the answers being replaced. Nothing is
        deleted: the earlier versions stay, and stay chosen if no new answer comes
        (`cancel_new_version`, or the app closed)."""
        asked = [t for t in self._turns(conversation_id) if t.questions]
        if not asked:
            return None
        question, _answer = asked[-1].shown()
        assert question is not None
        with self._lock:
            self._new_versions[conversation_id] = (asked[-1].number, question["content"])
        return str(question["content"])

    def cancel_new_version(self, conversation_id: str) -> None:
        """The question was not asked again after all: show its turn as before."""
        with self._lock:
            self._new_versions.pop(conversation_id, None)

    def delete_last_assistant_message(self, conversation_id: str) -> None:
        """Drop the newest answer."""
        with self._conn() as conn:
            conn.execute(
                """DELETE FROM messages WHERE id = (SELECT id FROM messages
                   WHERE conversation_id = ? AND role = 'assistant' ORDER BY seq DESC LIMIT 1)""",
                (conversation_id,),
            )


@dataclass
class _Turn:
    """The rows of one question turn, by version."""

    number: int
    questions: dict[int, sqlite3.Row] = field(default_factory=dict)
    answers: dict[int, sqlite3.Row] = field(default_factory=dict)
    chosen: int | None = None

    def add(self, row: sqlite3.Row) -> None:
        kept = self.questions if row["role"] == "user" else self.answers
        kept.setdefault(row["version"], row)
        if row["chosen"]:
            self.chosen = row["version"]

    def answered(self) -> list[int]:
        return sorted(self.answers)

    def shown(self) -> tuple[sqlite3.Row | None, sqlite3.Row | None]:
        """(question, answer) of the version shown: the chosen one, unless it has no answer
        and another version has one (then the newest answered); its question, or the turn's
        first when that version has none of its own (an answer stored twice before schema 2).
        """
        version = self.chosen
        if version not in self.answers and self.answers:
            version = max(self.answers)
        if version is None:
            version = min(self.questions, default=1)
        question = self.questions.get(version)
        if question is None and self.questions:
            question = self.questions[min(self.questions)]
        return question, self.answers.get(version)


def _citation(row: sqlite3.Row) -> Citation:
    return Citation(
        row["n"], row["document"], row["path"], row["page"], row["quote"], row["start"],
        row["end"], row["chunk_id"], bool(row["verified"]),
    )  # fmt: skip


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
