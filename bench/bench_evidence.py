"""Evidence and retrieval on the development sets, without a language model.

For each question, the question's own document is indexed alone (one workspace per document,
as the eval README asks for per-document questions), the question is searched (hybrid, k=5),
and rag.evidence chooses the evidence. Reported: retrieval recall@5 (a hit holds the gold),
evidence holds the gold, and for every "not found" threshold the abstention on unanswerable
questions and the false abstention on answerable ones.

    .venv/bin/python bench/bench_evidence.py [--limit-cuad N] [--out bench/results/evidence.json]

Gold: clinical, the `must` string is inside the text; CUAD, the text overlaps a gold span
(offsets into the contract). CUAD unanswerable questions count only with topic_in_text false.
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


def _records(limit_cuad: int | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in (EVAL / "clinical" / "questions.jsonl").read_text().splitlines():
        q = json.loads(line)
        out.append({"set": "clinical", "doc": EVAL / "clinical" / "notes" / q["note"],
                    "q": q["q"], "answerable": q["answerable"], "must": q["must"],
                    "spans": None, "kind": q["kind"]})  # fmt: skip
    cuad = [
        json.loads(line)
        for line in (EVAL / "cuad" / "questions_short.jsonl").read_text().splitlines()
    ]
    cuad = [q for q in cuad if q["answerable"] or q["topic_in_text"] is False]
    if limit_cuad:
        cuad = cuad[:limit_cuad]
    for q in cuad:
        out.append({"set": "cuad", "doc": EVAL / "cuad" / "contracts" / f"{q['contract_id']}.txt",
                    "q": q["q"], "answerable": q["answerable"], "must": None,
                    "spans": q["gold_spans"], "kind": q["category"]})  # fmt: skip
    return out


def _holds(rec: dict[str, Any], text: str, start: int, end: int) -> bool:
    if rec["must"] is not None:
        return rec["must"] in text
    return any(start < e and s < end for s, e in rec["spans"] or [])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit-cuad", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "evidence.json")
    parser.add_argument("--debug-out", type=Path, help="also write questions and quotes here")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--hits", type=Path, help="reuse (or save) the searches: a pickle file")
    parser.add_argument("--vectors", type=Path, help="reuse (or save) sentence vectors: a pickle")
    args = parser.parse_args()

    from app.bootstrap import secure_process

    secure_process()
    from rag.embedder import SentenceTransformerEmbedder, default_embedder_path
    from rag.evidence import answer_type, asks_about_document, choose_evidence
    from rag.index import WorkspaceIndex

    embedder = SentenceTransformerEmbedder(default_embedder_path())
    cache: dict[str, list[float]] = {}
    if args.vectors and args.vectors.exists():
        import pickle

        cache = pickle.loads(args.vectors.read_bytes())

    def embed(texts: Any) -> list[list[float]]:  # the same vectors, each text embedded once
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            cache.update(zip(todo, embedder.embed(todo), strict=True))
        return [cache[t] for t in texts]

    records = _records(args.limit_cuad)
    saved: dict[str, Any] = {}
    if args.hits and args.hits.exists():
        import pickle

        saved = pickle.loads(args.hits.read_bytes())
    by_doc: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_doc[rec["doc"]].append(rec)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n, (doc, recs) in enumerate(sorted(by_doc.items())):
            if all(f"{doc.name}|{r['q']}" in saved for r in recs):
                index = None
            else:
                index = WorkspaceIndex(Path(tmp) / f"ws{n}", embedder)
                index.ingest_file(doc)
            for rec in recs:
                t0 = time.perf_counter()
                key = f"{doc.name}|{rec['q']}"
                if key in saved:
                    hits, openings = saved[key]
                else:
                    assert index is not None
                    hits = index.search(rec["q"], k=args.k)
                    openings = index.openings()
                    saved[key] = (hits, openings)
                evidence = choose_evidence(rec["q"], hits, embed, openings=openings)
                rows.append({
                    "set": rec["set"], "kind": rec["kind"], "q": rec["q"],
                    "doc": rec["doc"].name,
                    "answerable": rec["answerable"], "type": answer_type(rec["q"]),
                    "recall": any(
                        _holds(rec, h.chunk.text, h.chunk.start, h.chunk.end)
                        for h in [*hits, *(openings if asks_about_document(rec["q"]) else [])]
                    ),
                    "evidence_holds": any(
                        _holds(rec, e.quote, e.hit.chunk.start + e.start,
                               e.hit.chunk.start + e.end)
                        for e in evidence
                    ),
                    "score": evidence[0].score if evidence else 0.0,
                    "type_match": evidence[0].type_match if evidence else False,
                    "dense": evidence[0].dense if evidence else 0.0,
                    "lexical": evidence[0].lexical if evidence else 0.0,
                    "key": evidence[0].key if evidence else False,
                    "absent": list(evidence[0].absent) if evidence else [],
                    "wants_type": answer_type(rec["q"]) != "any",
                    "quote": evidence[0].quote if evidence else "",
                    "seconds": time.perf_counter() - t0,
                })  # fmt: skip
            if index is not None:
                index.close()
    if args.hits:
        import pickle

        args.hits.write_bytes(pickle.dumps(saved))
    if args.vectors:
        import pickle

        args.vectors.write_bytes(pickle.dumps(cache))
    summary = summarise(rows)
    summary["seconds_total"] = round(time.perf_counter() - started, 1)
    # Numbers only: the eval data's text (questions, quotes) is not written into the project.
    kept = [{k: v for k, v in r.items() if k not in ("q", "quote", "doc")} for r in rows]
    if args.debug_out:
        args.debug_out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    args.out.write_text(json.dumps({"summary": summary, "rows": kept}, indent=1))
    print(json.dumps(summary, indent=1))
    return 0


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("clinical", "cuad"):
        part = [r for r in rows if r["set"] == name]
        ans = [r for r in part if r["answerable"]]
        una = [r for r in part if not r["answerable"]]
        sweep = {}
        for tau in [x / 100 for x in range(20, 70, 2)]:
            sweep[f"{tau:.2f}"] = {
                "abstain_unanswerable": _share([_abstains(r, tau) for r in una]),
                "false_abstention": _share([_abstains(r, tau) for r in ans]),
                "answered_and_holds": _share(
                    [not _abstains(r, tau) and r["evidence_holds"] for r in ans]
                ),
            }  # fmt: skip
        out[name] = {
            "answerable": len(ans),
            "unanswerable": len(una),
            "recall_at_5": _share([r["recall"] for r in ans]),
            "evidence_holds_gold": _share([r["evidence_holds"] for r in ans]),
            "seconds_per_question": round(sum(r["seconds"] for r in part) / max(1, len(part)), 3),
            "sweep": sweep,
        }
    return out


def _abstains(row: dict[str, Any], tau: float) -> bool:
    """rag.evidence.answers, at threshold `tau`."""
    return (
        row["score"] < tau
        or (row["wants_type"] and not row["type_match"])
        or (not row["wants_type"] and bool(row["absent"]))
    )


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


if __name__ == "__main__":
    raise SystemExit(main())
