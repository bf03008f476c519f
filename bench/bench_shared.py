"""Search latency of a shared workspace (team PostgreSQL + Chroma server on loopback) against the
same workspace held locally (SQLite FTS5 + chromadb on disk), at N chunks (issue 14).

The corpus: the CUAD contracts (/work/shared/eval/cuad/contracts), copied under new names until
the workspace holds N passages. It is indexed once locally with rag.embedder.HashEmbedder (no
model: the latency measured is the storage's, not the embedder's), then moved to the team
servers with rag.transfer.copy_index (the code `enclave workspaces share` runs), so both hold
the same passages and vectors. Each query of a fixed list is run R times per mode (hybrid,
lexical, dense) on each; p50/p95 in ms, and the ratio shared/local. Also the raw libraries on
the same input: chromadb's PersistentClient vs HttpClient query, and SQLite FTS5 bm25 vs the
PostgreSQL BM25 statement, so the ratio of the index code can be told from the storage's.

The servers are started by tests/team_servers.py (initdb + pg_ctl on a free port, `chroma run`).

    .venv/bin/python bench/bench_shared.py --chunks 10000 [--repeat 5]

Writes bench/results/shared.json (one entry per --chunks value run). Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.bootstrap import secure_process  # noqa: E402

secure_process()

CUAD = REPO.parent / "shared" / "eval" / "cuad" / "contracts"
RESULTS = REPO / "bench" / "results" / "shared.json"
QUERIES = [
    "governing law",
    "termination for convenience",
    "exclusivity",
    "non-compete",
    "change of control",
    "liquidated damages",
    "cap on liability",
    "insurance",
    "audit rights",
    "renewal term",
    "effective date",
    "source code escrow",
    "third party beneficiary",
    "This Agreement shall be governed by the laws of the State of New York",
    "sixty (60) days written notice",
]


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 3), "p95_ms": round(p95, 3)}


def _time(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for query in QUERIES:
            t0 = time.perf_counter()
            fn(query)  # type: ignore[call-arg]
            out.append((time.perf_counter() - t0) * 1000)
    return out


def build_local(root: Path, chunks: int, embedder: Any) -> Any:
    from rag.extract import extract
    from rag.index import WorkspaceIndex
    from rag.limits import ParseLimits

    index = WorkspaceIndex(root, embedder)
    files = sorted(CUAD.glob("*.txt"))
    parsed = [extract(p, password=None, limits=ParseLimits()).parsed for p in files]
    copy = 0
    while index.manifest.live_chunk_count() < chunks:
        for n, doc in enumerate(parsed):
            if doc is None:
                continue
            path = root.parent / f"copy{copy:04d}-{n:02d}.txt"
            index.ingest_parsed(path, doc)
            if index.manifest.live_chunk_count() >= chunks:
                break
        copy += 1
    return index


def run(chunks: int, repeat: int) -> dict[str, Any]:
    from rag.embedder import HashEmbedder
    from rag.transfer import copy_index
    from tests import team_servers

    embedder = HashEmbedder(384)
    with (
        tempfile.TemporaryDirectory() as tmp,
        team_servers.postgres() as pg,
        team_servers.chroma() as ch,
    ):
        pg.add_user("alice")
        t0 = time.perf_counter()
        local = build_local(Path(tmp) / "ws", chunks, embedder)
        built_s = time.perf_counter() - t0
        team = team_servers.team_for(pg, ch, "alice")
        team.create("bench", "Bench")  # type: ignore[attr-defined]
        storage = team.storage("bench")  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        report = copy_index(local.manifest, local.store, storage.manifest, storage.store)
        shared_s = time.perf_counter() - t0
        storage.store.close()
        storage.manifest.close()
        storage.release()
        shared = team.open_index("bench", embedder)  # type: ignore[attr-defined]
        with pg.connect() as conn:  # type: ignore[attr-defined]
            conn.execute("ANALYZE")
        result: dict[str, Any] = {
            "chunks": report.passages,
            "documents": report.documents,
            "build_local_s": round(built_s, 1),
            "share_copy_verify_s": round(shared_s, 1),
            "queries": len(QUERIES),
            "repeat": repeat,
            "modes": {},
            "raw": {},
        }
        for mode in ("hybrid", "lexical", "dense"):
            for index in (local, shared):  # warm both
                index.search(QUERIES[0], k=5, mode=mode)
            loc = _percentiles(_time(lambda q, m=mode: local.search(q, k=5, mode=m), repeat))
            sha = _percentiles(_time(lambda q, m=mode: shared.search(q, k=5, mode=m), repeat))
            result["modes"][mode] = {
                "local": loc,
                "shared": sha,
                "ratio_p50": round(sha["p50_ms"] / loc["p50_ms"], 2),
                "ratio_p95": round(sha["p95_ms"] / loc["p95_ms"], 2),
            }
        vec = embedder.embed(["governing law"])[0]
        raw_local = _percentiles(_time(lambda q: local.store.query(vec, 28), repeat))
        raw_shared = _percentiles(_time(lambda q: shared.store.query(vec, 28), repeat))
        fts_local = _percentiles(_time(lambda q: local.manifest.lexical(q, 20), repeat))
        fts_shared = _percentiles(_time(lambda q: shared.manifest.lexical(q, 20), repeat))
        result["raw"] = {
            "chroma_query_28": {"persistent": raw_local, "http": raw_shared},
            "bm25_top20": {"sqlite_fts5": fts_local, "postgresql": fts_shared},
        }
        shared.close()
        local.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, action="append", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file (JSON)")
    args = parser.parse_args()
    if not CUAD.is_dir():
        print(f"The CUAD contracts are not at {CUAD}.", file=sys.stderr)
        return 1
    from tests import team_servers

    why = team_servers.missing()
    if why:
        print(f"Cannot start the team servers here: {why}.", file=sys.stderr)
        return 1
    runs = [run(n, args.repeat) for n in (args.chunks or [10000])]
    out = {
        "bench": "shared vs local workspace search latency (loopback servers)",
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "embedder": "HashEmbedder(384): storage latency only",
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
