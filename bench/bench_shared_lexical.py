"""The shared index's word ranking at N passages: the old single BM25 statement (git show
80c4e75:rag/pg_lexical.py, kept here as OLD_SQL's source) vs the MaxScore ranking
(rag.pg_lexical.Bm25) vs SQLite FTS5, interleaved per query, and whether each equals FTS5.

The CUAD contracts are chunked (rag.chunking) and copied until N passages; the passages and
their postings go straight into a fresh PostgreSQL (tests/team_servers.py) with COPY, then the
schema is run again (filling tf, lengths, enclave.terms and enclave.sizes, as an upgrade does),
and into an SQLite FTS5 table with the local manifest's tokenizer. Not part of `make test`.

    .venv/bin/python bench/bench_shared_lexical.py --chunks 100000 [--old] > out.txt
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.bootstrap import secure_process  # noqa: E402

secure_process()

from bench.bench_shared import CUAD, QUERIES  # noqa: E402


def _old_module(folder: Path) -> object:
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", "80c4e75:rag/pg_lexical.py"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    path = folder / "old_pg_lexical.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_pg_lexical", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    from rag.chunking import chunk_document
    from rag.extract import extract
    from rag.limits import ParseLimits
    from rag.manifest import fts_query
    from rag.pg_lexical import Bm25, query_phrases
    from rag.pg_schema import SCHEMA_SQL
    from rag.word_tokens import WordTokenizer
    from tests import team_servers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100000)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--old", action="store_true", help="time the old statement too (slow)")
    args = parser.parse_args()
    tok = WordTokenizer()
    base = []
    for n, path in enumerate(sorted(CUAD.glob("*.txt"))):
        doc = extract(path, password=None, limits=ParseLimits()).parsed
        if doc is not None:
            texts = [c.text for c in chunk_document(f"d{n}", doc)]
            base.append((texts, tok.tokens(texts)))
    rows: list[tuple[int, str, str, object]] = []
    copy = 0
    while len(rows) < args.chunks:
        for d, (texts, toks) in enumerate(base):
            rows += [(len(rows) + 1 + i, f"c{copy}-{d}", t, k) for i, (t, k) in
                     enumerate(zip(texts, toks, strict=True))]  # fmt: skip
            if len(rows) >= args.chunks:
                break
        copy += 1
    with tempfile.TemporaryDirectory() as tmp, team_servers.postgres() as pg:
        old = _old_module(Path(tmp)) if args.old else None
        local = sqlite3.connect(Path(tmp) / "local.db")
        local.executescript(
            "CREATE TABLE chunks(rid INTEGER PRIMARY KEY, id TEXT, document_id TEXT, text TEXT);"
            "CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', "
            "content_rowid='rid', tokenize='porter unicode61 remove_diacritics 2');"
        )
        local.executemany("INSERT INTO chunks VALUES (?,?,?,?)",
                          [(r, f"{d}:{r}", d, t) for r, d, t, _ in rows])  # fmt: skip
        local.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")
        local.commit()
        pg.add_user("alice")
        with pg.connect() as admin:  # type: ignore[attr-defined]
            admin.execute("INSERT INTO enclave.workspaces(id, name, collection) "
                          "VALUES ('ws', 'ws', 'col')")  # fmt: skip
            admin.execute("INSERT INTO enclave.members VALUES ('ws', 'alice')")
            with admin.cursor().copy(
                "COPY enclave.chunks(rid, workspace_id, id, document_id, version, seq, page, "
                'start, "end", text, ntokens) FROM STDIN'
            ) as cp:
                for r, d, t, k in rows:
                    cp.write_row((r, "ws", f"{d}:{r}", d, 1, r, 1, 0, 1, t, k.count))  # type: ignore[attr-defined]
            with admin.cursor().copy(
                "COPY enclave.postings(workspace_id, term, chunk_rid, positions) FROM STDIN"
            ) as cp:
                for r, _, _, k in rows:
                    for term, where in k.positions.items():  # type: ignore[attr-defined]
                        cp.write_row(("ws", term, r, where))
            admin.execute("SELECT setval('enclave.chunks_rid_seq', %s)", (len(rows),))
            admin.execute("DROP TABLE enclave.terms, enclave.sizes")
            admin.execute(SCHEMA_SQL)  # the upgrade path: fills tf, lengths, terms, sizes
            admin.execute("VACUUM ANALYZE")
        conn = pg.connect("alice")  # type: ignore[attr-defined]
        print(f"{len(rows)} passages; load average {os.getloadavg()}")
        times: dict[str, list[float]] = {"local": [], "new": [], "old": []}
        bad = 0
        for query in QUERIES:
            t0 = time.perf_counter()
            want = [(r[0], -r[1]) for r in local.execute(
                "SELECT c.id, bm25(chunks_fts) s FROM chunks_fts JOIN chunks c ON "
                "c.rid = chunks_fts.rowid WHERE chunks_fts MATCH ? ORDER BY s LIMIT ?",
                (fts_query(query), args.n))]  # fmt: skip
            t1 = time.perf_counter()
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                got = Bm25(lambda s, p: [tuple(x) for x in conn.execute(s, p).fetchall()],
                           "ws").top(query_phrases(query, tok), args.n, None)  # fmt: skip
            t2 = time.perf_counter()
            if old is not None:
                sql, params = old.bm25_sql("ws", query_phrases(query, tok), args.n, None)  # type: ignore[attr-defined]
                conn.execute(sql, params).fetchall()
            t3 = time.perf_counter()
            bad += got != want
            times["local"].append((t1 - t0) * 1000)
            times["new"].append((t2 - t1) * 1000)
            if old is not None:
                times["old"].append((t3 - t2) * 1000)
            line = f"{query[:44]!r:48} identical={got == want} local={1000 * (t1 - t0):8.1f} "
            line += f"new={1000 * (t2 - t1):8.1f}"
            print(line + (f" old={1000 * (t3 - t2):8.1f}" if old is not None else ""))
        for name, values in times.items():
            if values:
                print(f"{name}: p50 {statistics.median(values):.1f} ms, max {max(values):.1f} ms")
        print(f"not identical: {bad}; load average {os.getloadavg()}")
        conn.close()
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
