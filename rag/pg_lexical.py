"""Lexical ranking on PostgreSQL that gives the local index's hits in the local index's order.

The local manifest asks SQLite FTS5 `"term1" OR "term2" ...` (rag.manifest.fts_query) and orders
by bm25(). Here the same query is answered from `enclave.postings` (FTS5's own tokens and
positions, rag.word_tokens) with FTS5's bm25 formula, term for term:

    idf(p)  = ln((N - n(p) + 0.5) / (n(p) + 0.5)), or 1e-6 when that is <= 0
    score   = sum over phrases p of idf(p) * (tf * (k1 + 1)) / (tf + k1 * (1 - b + b * D / avgdl))

with k1 = 1.2, b = 0.75, N the workspace's live chunks, n(p) the chunks where phrase p occurs,
tf its occurrences in the chunk (a multi-token phrase: consecutive positions), D the chunk's
token count and avgdl the mean. Ties are broken by insertion order (rid), as FTS5 returns them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.manifest import MAX_QUERY_TERMS
from rag.word_tokens import WordTokenizer

K1 = 1.2
B = 0.75
_TERM_SPLIT_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"\w", re.UNICODE)


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


def bm25_sql(
    workspace_id: str, phrases: Sequence[Sequence[str]], n: int, documents: Sequence[str] | None
) -> tuple[str, list[Any]]:
    """The statement (and its parameters) that returns (chunk id, score) best first."""
    params: list[Any] = []
    ctes: list[str] = []
    for i, tokens in enumerate(phrases):
        if len(tokens) == 1:
            ctes.append(
                f"p{i}(rid, tf) AS (SELECT chunk_rid, cardinality(positions) "
                "FROM enclave.postings WHERE workspace_id = %s AND term = %s)"
            )
            params += [workspace_id, tokens[0]]
            continue
        joins, conds = [], []
        for j, token in enumerate(tokens[1:], start=1):
            joins.append(
                f"JOIN enclave.postings t{j} ON t{j}.workspace_id = t0.workspace_id "
                f"AND t{j}.chunk_rid = t0.chunk_rid AND t{j}.term = %s"
            )
            conds.append(f"x + {j} = ANY(t{j}.positions)")
            params.append(token)
        ctes.append(
            f"p{i}(rid, tf) AS (SELECT t0.chunk_rid, (SELECT count(*) FROM unnest(t0.positions) "
            f"AS x WHERE {' AND '.join(conds)}) FROM enclave.postings t0 {' '.join(joins)} "
            "WHERE t0.workspace_id = %s AND t0.term = %s)"
        )
        params += [workspace_id, tokens[0]]
    hits = " UNION ALL ".join(
        f"SELECT {i} AS i, rid, tf::float8 AS tf FROM p{i} WHERE tf > 0"
        for i in range(len(phrases))
    )
    scope = ""
    tail: list[Any] = [workspace_id]
    if documents is not None:
        scope = "AND c.document_id = ANY(%s) "
        tail.append(list(documents))
    tail.append(n)
    sql = (
        f"WITH {', '.join(ctes)}, hits AS ({hits}), "
        "stats AS (SELECT count(*)::float8 AS nrow, coalesce(sum(ntokens), 0)::float8 AS ntok "
        "FROM enclave.chunks WHERE workspace_id = %s), "
        "idf AS (SELECT h.i, CASE WHEN ln((s.nrow - count(*) + 0.5) / (count(*) + 0.5)) <= 0 "
        "THEN 1e-6::float8 ELSE ln((s.nrow - count(*) + 0.5) / (count(*) + 0.5)) END AS v "
        "FROM hits h CROSS JOIN stats s GROUP BY h.i, s.nrow) "
        f"SELECT c.id, sum(idf.v * ((h.tf * ({K1}::float8 + 1.0)) / (h.tf + {K1}::float8 * "
        f"(1 - {B}::float8 + {B}::float8 * c.ntokens::float8 / (s.ntok / s.nrow))))) AS score "
        "FROM hits h JOIN idf ON idf.i = h.i JOIN enclave.chunks c ON c.rid = h.rid "
        "CROSS JOIN stats s "
        f"WHERE c.workspace_id = %s {scope}"
        "GROUP BY c.id, c.rid ORDER BY score DESC, c.rid LIMIT %s"
    )
    # the stats CTE's parameter comes before the final WHERE's: keep the order of the text
    return sql, [*params, workspace_id, *tail]
