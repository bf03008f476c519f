"""Words exactly as the local lexical index sees them: SQLite FTS5's own tokenizer.

The local manifest ranks passages with FTS5's bm25() over the tokenizer
`porter unicode61 remove_diacritics 2`. The shared manifest (PostgreSQL) ranks with the same
BM25 formula, so it must see the same tokens: they come from the same tokenizer, run in an
in-memory SQLite database and read back through fts5vocab's 'instance' table (term and position
of every token). Nothing is written to disk.

Thread-safe: one in-memory connection guarded by a lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

TOKENIZER = "porter unicode61 remove_diacritics 2"  # the same as rag.manifest's chunks_fts


@dataclass(frozen=True)
class Tokens:
    """One text's tokens: term -> positions (0-based, in order), and how many tokens in all."""

    positions: dict[str, list[int]]
    count: int


class WordTokenizer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(text, tokenize='{TOKENIZER}')")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")

    def tokens(self, texts: Sequence[str]) -> list[Tokens]:
        """The tokens of each text, in the order given."""
        if not texts:
            return []
        with self._lock:
            c = self._conn
            c.execute("BEGIN")
            try:
                c.executemany(
                    "INSERT INTO t(rowid, text) VALUES (?, ?)",
                    [(n + 1, text) for n, text in enumerate(texts)],
                )
                rows = c.execute('SELECT doc, term, "offset" FROM v ORDER BY doc, "offset"')
                found: list[dict[str, list[int]]] = [{} for _ in texts]
                counts = [0] * len(texts)
                for doc, term, offset in rows:
                    found[doc - 1].setdefault(term, []).append(int(offset))
                    counts[doc - 1] += 1
            finally:
                c.execute("ROLLBACK")
        return [Tokens(p, n) for p, n in zip(found, counts, strict=True)]

    def phrase(self, text: str) -> list[str]:
        """The token sequence of one query phrase (what FTS5 matches consecutively)."""
        got = self.tokens([text])[0]
        by_position = sorted((p, term) for term, ps in got.positions.items() for p in ps)
        return [term for _, term in by_position]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
