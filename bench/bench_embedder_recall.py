"""Retrieval recall@5 of the search model's ONNX files on the development sets (issue 13).

Each ONNX file (default: the installed fp32 file and, when made, the int8 one) indexes every
question's own document alone (one workspace per document, as bench_baseline.py and
bench_evidence.py do) and answers the answerable questions: clinical questions over their own
note (a hit holds `must`), CUAD short questions over their own contract (a hit overlaps a gold
span). Reported per file and set: recall@5 of `WorkspaceIndex.search` (hybrid dense + BM25, what
ships) and of the dense vectors alone (cosine top 5 over the same chunks: the embedder's own
effect), with the minimum cosine of its chunk vectors against the first file's. The files run
document by document in alternating order, so both see the same load.

    .venv/bin/python bench/bench_embedder_recall.py [--onnx FILE ...] [--limit-cuad N]

Writes bench/results/embedder_recall.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_baseline import _holds as holds  # noqa: E402
from bench_baseline import _questions  # noqa: E402

K = 5
COMMAND = ".venv/bin/python bench/bench_embedder_recall.py"


def questions(limit_cuad: int | None) -> list[dict[str, Any]]:
    """The answerable clinical and CUAD short questions, as bench_baseline.py reads them."""
    return [r for r in _questions(limit_cuad) if r["set"] != "cuad verbatim"]


class CachedEmbedder:
    """The embedder with its vectors kept by text (the dense-only arm reuses ingest's)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.cache: dict[str, list[float]] = {}
        self.cpu_seconds = 0.0

    def embed(self, texts: Any) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            started = time.process_time()
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
            self.cpu_seconds += time.process_time() - started
        return [self.cache[t] for t in texts]


def score_document(
    arm: CachedEmbedder, doc: Path, recs: list[dict[str, Any]], tmp: Path
) -> tuple[list[bool], list[bool], Any]:
    """(hybrid hits, dense-only hits, chunk vectors) of one document's questions."""
    import numpy as np

    from rag.evidence import asks_about_document
    from rag.index import WorkspaceIndex

    index = WorkspaceIndex(tmp, arm)
    try:
        report = index.ingest_file(doc)
        chunks = index.manifest.document_chunks(report.document_id)
        vectors = np.asarray(arm.embed([c.text for c in chunks]))
        openings = index.openings()
        hybrid, dense = [], []
        for rec in recs:
            found = index.search(rec["q"], k=K)
            if asks_about_document(rec["q"]):
                found = [*found, *openings]
            hybrid.append(any(holds(rec, h.chunk.text, h.chunk.start, h.chunk.end) for h in found))
            qv = np.asarray(arm.embed([rec["q"]])[0])
            top = [chunks[i] for i in np.argsort(-(vectors @ qv))[:K]]
            dense.append(any(holds(rec, c.text, c.start, c.end) for c in top))
    finally:
        index.close()
    return hybrid, dense, vectors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--onnx", type=Path, nargs="*", default=None, help="ONNX files")
    parser.add_argument("--limit-cuad", type=int, default=None, help="answerable CUAD questions")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/embedder_recall.json")
    args = parser.parse_args()

    from app.bootstrap import secure_process

    secure_process()
    from rag.embedder import default_embedder_path
    from rag.onnx_embedder import OnnxEmbedder, installed_int8_path, installed_onnx_path

    files = args.onnx or [p for p in (installed_onnx_path(), installed_int8_path()) if p.is_file()]
    model_path = default_embedder_path()
    arms = {str(p): CachedEmbedder(OnnxEmbedder(model_path, p)) for p in files}
    by_doc: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for rec in questions(args.limit_cuad):
        by_doc[rec["doc"]].append(rec)
    hits: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    worst = dict.fromkeys(arms, 1.0)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="enclave-bench-recall-") as tmp:
        for n, (doc, recs) in enumerate(sorted(by_doc.items())):
            order = list(arms) if n % 2 == 0 else list(reversed(arms))
            vectors = {}
            for a, key in enumerate(order):
                ws = Path(tmp) / f"{n}-{a}"
                hybrid, dense, vectors[key] = score_document(arms[key], doc, recs, ws)
                for rec, h, d in zip(recs, hybrid, dense, strict=True):
                    hits[(key, rec["set"], "hybrid")].append(h)
                    hits[(key, rec["set"], "dense")].append(d)
            first = next(iter(arms))
            for key in arms:
                worst[key] = min(worst[key], float((vectors[key] * vectors[first]).sum(1).min()))
            print(f"  {n + 1}/{len(by_doc)} {doc.name[:50]}", flush=True)
    result: dict[str, Any] = {"files": {}}
    for key, arm in arms.items():
        sets: dict[str, Any] = {}
        for (k, name, kind), flags in sorted(hits.items()):
            if k == key:
                entry = sets.setdefault(name, {"questions": len(flags)})
                entry[f"{kind}_recall_at_5"] = round(sum(flags) / len(flags), 4)
        result["files"][Path(key).name] = {
            "embedder_name": arm.name,
            "sets": sets,
            "embed_cpu_seconds": round(arm.cpu_seconds, 1),
            "min_cosine_vs_first": round(worst[key], 5),
        }
    result |= {
        "documents": len(by_doc),
        "seconds": round(time.perf_counter() - started, 1),
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "command": COMMAND + (f" --limit-cuad {args.limit_cuad}" if args.limit_cuad else ""),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
