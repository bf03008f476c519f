"""Lexical ranking on PostgreSQL that gives the local index's hits in the local index's order.

The local manifest asks SQLite FTS5 `"term1" OR "term2" ...` (rag.manifest.fts_query) and orders
by bm25(). Here the same query is answered from `enclave.postings` (FTS5's own tokens and
positions, rag.word_tokens) with FTS5's bm25 formula, term for term:

    idf(p)  = ln((N - n(p) + 0.5) / (n(p) + 0.5)), or 1e-6 when that is <= 0
    score   = sum over phrases p of idf(p) * (tf * (k1 + 1)) / (tf + k1 * (1 - b + b * D / avgdl))

with k1 = 1.2, b = 0.75, N the workspace's live chunks, n(p) the chunks where phrase p occurs,
tf its occurrences in the chunk (a multi-token phrase: consecutive positions), D the chunk's
token count and avgdl the mean. Ties are broken by insertion order (rid), as FTS5 returns them.
The final scores are computed here, in Python, phrase by phrase in the query's order with the
same libm log as SQLite's: the very doubles FTS5 computes, so equal chunks tie exactly.

Fast without changing a hit (MaxScore, exact): a phrase adds less than idf(p) * (k1 + 1) to any
chunk. The phrases are ordered by that bound; the "essential" ones (the rarest) give the
candidates, best first by their part of the score (one statement over their postings only, read
from the postings_impacts index: term -> chunk, tf, chunk length); the best L candidates are
scored on every phrase (one statement that probes the other phrases' postings for those chunks
only). The top n is final when neither an unscored candidate (its essential part plus the other
phrases' bounds) nor a chunk outside the essential postings (those bounds alone) can reach the
n-th score; otherwise one more phrase becomes essential, or every candidate that could still
reach it is scored, and the check is made again. A common word's long postings are then never
read; its n(p) is kept in enclave.terms, and N and the token count in enclave.sizes, by the
writers' triggers (rag.pg_schema). A search limited to a few documents scores each of their
chunks instead. All statements run in one snapshot (the caller's `read`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rag.manifest import MAX_QUERY_TERMS
from rag.word_tokens import WordTokenizer

K1 = 1.2
B = 0.75
_TERM_SPLIT_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"\w", re.UNICODE)
_MARGIN = 1e-9  # relative slack on the bounds: SQL's partial sums add in another order
FIRST_CANDIDATES = 64  # the first L
SCOPE_CHUNKS = 2000  # a search of at most this many chunks scores them all
REACH_CHUNKS = 5000  # more near ties than this: rank on every phrase at once

Read = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


def query_phrases(text: str, tokenizer: WordTokenizer) -> list[list[str]]:
    """The phrases of rag.manifest.fts_query(text), each as its token sequence (same split,
    same de-duplication, same limit); phrases without any token are left out (they match
    nothing)."""
    phrases: list[list[str]] = []
    seen: set[str] = set()
    for term in _TERM_SPLIT_RE.split(text):
        if not _WORD_RE.search(term):
            continue
        key = term.lower()
        if key in seen:
            continue
        seen.add(key)
        tokens = tokenizer.phrase(term)
        if tokens:
            phrases.append(tokens)
        if len(seen) >= MAX_QUERY_TERMS:
            break
    return phrases


def fts5_idf(rows: int, hits: int) -> float:
    """FTS5's idf (sqlite3 fts5_aux.c, fts5Bm25Function)."""
    idf = math.log((rows - hits + 0.5) / (hits + 0.5))
    return 1e-6 if idf <= 0.0 else idf


def _phrase_sql(
    tokens: Sequence[str], ws: str, rids: Sequence[int] | None
) -> tuple[str, list[Any]]:
    """SELECT rid, tf (> 0), len (the chunk's tokens) of one phrase, on `rids` only when
    given. A single token reads the postings_impacts index only."""
    only = " AND t0.chunk_rid = ANY(%s::bigint[])" if rids is not None else ""
    tail: list[Any] = [] if rids is None else [list(rids)]
    if len(tokens) == 1:
        return (
            "SELECT t0.chunk_rid AS rid, t0.tf AS tf, t0.ntokens AS len FROM enclave.postings t0 "
            f"WHERE t0.workspace_id = %s AND t0.term = %s{only}",
            [ws, tokens[0], *tail],
        )
    joins, conds, params = [], [], []
    for j, token in enumerate(tokens[1:], start=1):
        joins.append(
            f"JOIN enclave.postings t{j} ON t{j}.workspace_id = t0.workspace_id "
            f"AND t{j}.chunk_rid = t0.chunk_rid AND t{j}.term = %s"
        )
        conds.append(f"x + {j} = ANY(t{j}.positions)")
        params.append(token)
    sql = (
        "SELECT rid, tf, len FROM (SELECT t0.chunk_rid AS rid, t0.ntokens AS len, (SELECT "
        f"count(*) FROM unnest(t0.positions) AS x WHERE {' AND '.join(conds)}) AS tf "
        f"FROM enclave.postings t0 {' '.join(joins)} WHERE t0.workspace_id = %s "
        f"AND t0.term = %s{only}) AS m WHERE tf > 0"
    )
    return sql, [*params, ws, tokens[0], *tail]


@dataclass(frozen=True)
class _Phrase:
    position: int  # in the query (FTS5 adds the phrases' parts in this order)
    tokens: tuple[str, ...]
    idf: float

    @property
    def bound(self) -> float:
        return self.idf * (K1 + 1.0)


Candidate = tuple[int, int]  # (chunk rid, its token count)


class Bm25:
    """One query's exact BM25 top n over a shared workspace (see the module docstring)."""

    def __init__(self, read: Read, workspace_id: str) -> None:
        self._read = read
        self._ws = workspace_id

    def top(
        self, phrases: Sequence[Sequence[str]], n: int, documents: Sequence[str] | None
    ) -> list[tuple[str, float]]:
        """(chunk id, score) best first, FTS5's ranking and scores."""
        sizes = self._read(
            "SELECT chunks, tokens FROM enclave.sizes WHERE workspace_id = %s", (self._ws,)
        )
        if not sizes or not sizes[0][0] or n <= 0:
            return []
        rows, tokens = sizes[0]
        avgdl = float(tokens) / float(rows)
        hits = self._hit_counts({tuple(p) for p in phrases})
        found = [
            _Phrase(i, tuple(p), fts5_idf(int(rows), hits[tuple(p)]))
            for i, p in enumerate(phrases)
            if hits[tuple(p)] > 0
        ]
        if not found:
            return []
        scope = self._scope(documents) if documents is not None else None
        if scope is not None:  # a few documents: score every one of their chunks
            best = [s for s in self._score(scope, found, avgdl) if s[0] > 0.0][:n]
        else:
            best = self._maxscore(found, avgdl, n, documents)
        ids: dict[int, str] = {
            int(r[0]): str(r[1])
            for r in self._read(
                "SELECT rid, id FROM enclave.chunks WHERE rid = ANY(%s::bigint[])",
                ([rid for _, rid in best],),
            )
        }
        return [(ids[rid], score) for score, rid in best]

    def _maxscore(
        self, found: Sequence[_Phrase], avgdl: float, n: int, documents: Sequence[str] | None
    ) -> list[tuple[float, int]]:
        order = sorted(found, key=lambda p: (-p.bound, p.position))
        rest = [0.0] * (len(order) + 1)  # rest[m]: the bounds of order[m:], summed
        for m in range(len(order) - 1, -1, -1):
            rest[m] = rest[m + 1] + order[m].bound
        essential, every = 1, len(order)
        while True:
            ranked, last, complete = self._candidates(
                order[:essential], avgdl, documents, max(FIRST_CANDIDATES, 4 * n)
            )
            best = self._score(ranked, found, avgdl)[:n]
            theta = best[-1][0] if len(best) == n else 0.0
            if essential < every and rest[essential] * (1 + _MARGIN) >= theta:
                while essential < every and rest[essential] * (1 + _MARGIN) >= theta:
                    essential += 1  # a chunk outside these postings could still make the top n
                continue
            if complete or (last + rest[essential]) * (1 + _MARGIN) < theta:
                return best
            # more candidates could make it: every one whose part plus the rest reaches theta
            cap = None if essential == every else REACH_CHUNKS
            ranked, _, complete = self._candidates(
                order[:essential], avgdl, documents, cap, (rest[essential], theta)
            )
            if not complete:  # too many near ties on common words: rank on every phrase
                ranked, _, _ = self._candidates(order, avgdl, documents, None, (0.0, theta))
            return self._score(ranked, found, avgdl)[:n]

    def _hit_counts(self, distinct: set[tuple[str, ...]]) -> dict[tuple[str, ...], int]:
        """n(p) per phrase: single tokens from enclave.terms, phrases by matching them."""
        out = dict.fromkeys(distinct, 0)
        single = sorted(p[0] for p in distinct if len(p) == 1)
        if single:
            for term, count in self._read(
                "SELECT term, df FROM enclave.terms WHERE workspace_id = %s AND term = ANY(%s)",
                (self._ws, single),
            ):
                out[(term,)] = int(count)
        for p in distinct:
            if len(p) > 1:
                sql, params = _phrase_sql(p, self._ws, None)
                out[p] = int(self._read(f"SELECT count(*) FROM ({sql}) AS h", params)[0][0])
        return out

    def _scope(self, documents: Sequence[str]) -> list[Candidate] | None:
        """The chunks of `documents`, when there are at most SCOPE_CHUNKS of them."""
        if not documents:
            return []
        rows = self._read(
            "SELECT rid, ntokens FROM enclave.chunks WHERE workspace_id = %s "
            "AND document_id = ANY(%s) LIMIT %s",
            (self._ws, list(documents), SCOPE_CHUNKS + 1),
        )
        if len(rows) > SCOPE_CHUNKS:
            return None
        return [(int(r[0]), int(r[1])) for r in rows]

    def _candidates(
        self,
        essential: Sequence[_Phrase],
        avgdl: float,
        documents: Sequence[str] | None,
        limit: int | None,
        reach: tuple[float, float] | None = None,
    ) -> tuple[list[Candidate], float, bool]:
        """The best `limit` chunks by the essential phrases' part of the score, or with `reach`
        (rest, theta) the chunks whose part plus `rest` could reach `theta` (at most `limit`):
        best first, the last one's part, and whether there are no more."""
        parts, params = [], []
        for k, phrase in enumerate(essential):
            sql, p = _phrase_sql(phrase.tokens, self._ws, None)
            parts.append(f"SELECT {k + 1} AS k, h.rid, h.tf, h.len FROM ({sql}) AS h")
            params += p
        scope, tail = "", []
        if documents is not None:
            scope = (
                " WHERE h.rid IN (SELECT rid FROM enclave.chunks WHERE workspace_id = %s "
                "AND document_id = ANY(%s))"
            )
            tail = [self._ws, list(documents)]
        sql = (
            f"WITH hits AS ({' UNION ALL '.join(parts)}) SELECT rid, len, part FROM ("
            f"SELECT h.rid, h.len, sum(w.idf * ((h.tf * {K1 + 1.0}::float8) / "
            f"(h.tf + {K1}::float8 * ({1.0 - B}::float8 + {B}::float8 * h.len::float8 / "
            "%s::float8)))) AS part "
            "FROM hits h JOIN unnest(%s::float8[]) WITH ORDINALITY AS w(idf, k) ON w.k = h.k"
            f"{scope} GROUP BY h.rid, h.len) AS s"
        )
        values = [*params, avgdl, [p.idf for p in essential], *tail]
        if reach is not None:  # (part + rest) * (1 + margin) >= theta
            sql += f" WHERE (part + %s::float8) * {1 + _MARGIN}::float8 >= %s::float8"
            values += list(reach)
        sql += " ORDER BY part DESC, rid"
        if limit is not None:
            sql += " LIMIT %s"
            values.append(limit + 1)
        rows = self._read(sql, values)
        complete = limit is None or len(rows) <= limit
        rows = rows if limit is None else rows[:limit]
        ranked = [(int(r[0]), int(r[1])) for r in rows]
        last = float(rows[-1][2]) if rows else 0.0
        return ranked, last, complete

    def _score(
        self, ranked: Sequence[Candidate], found: Sequence[_Phrase], avgdl: float
    ) -> list[tuple[float, int]]:
        """Every phrase's tf on the `ranked` chunks, and their FTS5 scores: (score, rid),
        best first (ties: lower rid first, FTS5's order)."""
        if not ranked:
            return []
        rids = [rid for rid, _ in ranked]
        parts, params = [], []
        for k, phrase in enumerate(found):
            sql, p = _phrase_sql(phrase.tokens, self._ws, rids)
            parts.append(f"SELECT {k} AS k, h.rid, h.tf FROM ({sql}) AS h")
            params += p
        tf: dict[int, dict[int, int]] = {}
        for k, rid, count in self._read(" UNION ALL ".join(parts), params):
            tf.setdefault(int(rid), {})[int(k)] = int(count)
        out = []
        for rid, length in ranked:
            freq = tf.get(rid, {})
            score = 0.0
            for k, phrase in enumerate(found):  # the query's order, as FTS5 adds them up
                f = float(freq.get(k, 0))
                score += phrase.idf * (
                    (f * (K1 + 1.0)) / (f + K1 * (1.0 - B + B * float(length) / avgdl))
                )
            out.append((score, rid))
        out.sort(key=lambda s: (-s[0], s[1]))
        return out
