"""Retrieval recall@5 of Enclave's index against a naive dense baseline, on the same questions.

Baseline (issue 11): the same embedder (all-MiniLM-L6-v2) over fixed 1,000-character chunks,
cosine top 5, nothing else. Enclave: `WorkspaceIndex.search` (structure-aware chunks, hybrid
dense + BM25), plus the document's opening passage for questions about the document itself
(as the answer pipeline does). One workspace per document, as the eval README asks.

Sets: the 68 answerable clinical questions over their notes (right = a hit holds `must`); the
answerable CUAD short questions, and the same questions in CUAD's verbatim form ("Highlight the
parts (if any) of this contract related to ..."), over their contracts (right = a hit overlaps a
gold span).

    .venv/bin/python bench/bench_baseline.py [--limit-cuad N]

Writes bench/results/baseline.json (numbers only).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "eval"
NAIVE_CHARS = 1000
K = 5


def _questions(limit_cuad: int | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in (EVAL / "clinical" / "questions.jsonl").read_text().splitlines():
        q = json.loads(line)
        if q["answerable"]:
            doc = EVAL / "clinical" / "notes" / q["note"]
            out.append({"set": "clinical", "doc": doc, "q": q["q"], "must": q["must"]})
    lines = (EVAL / "cuad" / "questions_short.jsonl").read_text().splitlines()
    cuad = [json.loads(x) for x in lines]
    cuad = [q for q in cuad if q["answerable"]][: limit_cuad or None]
    for q in cuad:
        doc = EVAL / "cuad" / "contracts" / f"{q['contract_id']}.txt"
        for form, text in (("cuad short", q["q"]), ("cuad verbatim", q["q_verbatim"])):
            out.append({"set": form, "doc": doc, "q": text, "spans": q["gold_spans"]})
    return out


def _holds(rec: dict[str, Any], text: str, start: int, end: int) -> bool:
    if "must" in rec:
        return bool(rec["must"] in text)
    return any(start < e and s < end for s, e in rec["spans"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit-cuad", type=int, default=None, help="answerable CUAD questions")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "baseline.json")
    args = parser.parse_args()

    from app.bootstrap import secure_process

    secure_process()
    import numpy as np

    from rag.embedder import SentenceTransformerEmbedder, default_embedder_path
    from rag.evidence import asks_about_document
    from rag.index import WorkspaceIndex

    embedder = SentenceTransformerEmbedder(default_embedder_path())
    records = _questions(args.limit_cuad)
    by_doc: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_doc[rec["doc"]].append(rec)
    hits: dict[str, list[bool]] = defaultdict(list)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n, (doc, recs) in enumerate(sorted(by_doc.items())):
            text = doc.read_text(encoding="utf-8")
            spans = [(s, min(len(text), s + NAIVE_CHARS)) for s in range(0, len(text), NAIVE_CHARS)]
            chunk_vectors = np.array(embedder.embed([text[s:e] for s, e in spans]))
            query_vectors = np.array(embedder.embed([r["q"] for r in recs]))
            index = WorkspaceIndex(Path(tmp) / f"ws{n}", embedder)
            index.ingest_file(doc)
            openings = index.openings()
            for rec, qv in zip(recs, query_vectors, strict=True):
                sims = (
                    chunk_vectors
                    @ qv
                    / (np.linalg.norm(chunk_vectors, axis=1) * np.linalg.norm(qv) + 1e-9)
                )
                top = [spans[i] for i in np.argsort(-sims)[:K]]
                hits[f"{rec['set']}|naive"].append(
                    any(_holds(rec, text[s:e], s, e) for s, e in top)
                )
                found = index.search(rec["q"], k=K)
                if asks_about_document(rec["q"]):
                    found = [*found, *openings]
                hits[f"{rec['set']}|enclave"].append(
                    any(_holds(rec, h.chunk.text, h.chunk.start, h.chunk.end) for h in found)
                )
            index.close()
    summary: dict[str, Any] = {}
    for key, flags in sorted(hits.items()):
        name, system = key.split("|")
        summary.setdefault(name, {"questions": len(flags)})[f"{system}_recall_at_5"] = round(
            sum(flags) / len(flags), 3
        )
    summary["seconds_total"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
