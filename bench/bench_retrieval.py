"""Retrieval quality (recall@5, MRR@10) and latency of the workspace index.

Quality, dense vs hybrid vs lexical, with the real all-MiniLM-L6-v2 embedder:
- PubMedQA dev (500 questions): every context of every question pooled into ONE workspace, one
  document per question-context (chunked with the default chunker). A hit is right when it
  comes from one of the question's own contexts.
- CUAD (20 contracts, the answerable clause questions): each contract .txt ingested with
  `ingest_file` into its own workspace (one matter = one workspace; CUAD's questions name a
  clause category, not a contract). A hit is right when its span overlaps a gold answer span
  (answer_start offsets into the decoded file, checked equal to CUAD's `context`). Queries:
  the question as given, and "category: details" (the question without its boilerplate).
Latency: chroma query (synthetic unit 384-d vectors) at 10k and 100k vectors, and the full
hybrid `search()` (real query embedding + chroma + FTS5 BM25 + fusion) over 10k chunks of
real contract/abstract sentences with synthetic vectors.

    .venv/bin/python bench/bench_retrieval.py [--skip-latency] [--skip-quality]

Writes bench/results/retrieval.json and bench/results/retrieval.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EVAL = REPO.parent / "shared" / "eval"
RESULTS = REPO / "bench" / "results"
COMMAND = ".venv/bin/python bench/bench_retrieval.py"
MODES = ("dense", "hybrid", "lexical")
K_RECALL, K_MRR = 5, 10


def score(ranks: list[int | None]) -> dict[str, float]:
    """recall@5 and MRR@10 from the 1-based rank of the first right hit (None: not in top 10)."""
    n = len(ranks)
    return {
        "recall@5": sum(1 for r in ranks if r is not None and r <= K_RECALL) / n,
        "mrr@10": sum(1.0 / r for r in ranks if r is not None) / n,
        "n": n,
    }


def first_right(hits: Sequence[Any], is_right: Any) -> int | None:
    for rank, hit in enumerate(hits, start=1):
        if is_right(hit):
            return rank
    return None


# -- PubMedQA ------------------------------------------------------------------------------


def bench_pubmedqa(embedder: Any, tmp: Path) -> dict[str, Any]:
    from rag.index import WorkspaceIndex
    from rag.types import Page, ParsedDocument

    rows = [json.loads(line) for line in (EVAL / "pubmedqa" / "dev.jsonl").open(encoding="utf-8")]
    index = WorkspaceIndex(tmp / "pubmedqa", embedder)
    started = time.perf_counter()
    owner: dict[str, str] = {}
    for row in rows:
        for n, context in enumerate(row["contexts"]):
            parsed = ParsedDocument(text=context, pages=[Page(1, 0, len(context))])
            report = index.ingest_parsed(Path(f"/pubmedqa/{row['id']}-{n}.txt"), parsed)
            owner[report.document_id] = row["id"]
    ingest_s = time.perf_counter() - started
    out: dict[str, Any] = {
        "questions": len(rows),
        "documents": len(owner),
        "chunks": index.manifest.live_chunk_count(),
        "ingest_seconds": ingest_s,
    }
    for mode in MODES:
        ranks = []
        for row in rows:
            hits = index.search(row["question"], k=K_MRR, mode=mode)
            ranks.append(first_right(hits, lambda h, q=row["id"]: owner[h.chunk.document_id] == q))
        out[mode] = score(ranks)
    index.close()
    return out


# -- CUAD ----------------------------------------------------------------------------------

_BOILERPLATE = re.compile(
    r'^Highlight the parts \(if any\) of this contract related to "(?P<cat>[^"]+)" that should '
    r"be reviewed by a lawyer\. Details: (?P<details>.*)$",
    re.S,
)


def short_query(qa: dict[str, Any]) -> str:
    m = _BOILERPLATE.match(qa["question"])
    return f"{m['cat']}: {m['details']}" if m else str(qa["question"])


def bench_cuad(embedder: Any, tmp: Path) -> dict[str, Any]:
    from rag.index import WorkspaceIndex

    records = [json.loads(line) for line in (EVAL / "cuad" / "cuad_subset.jsonl").open()]
    aligned = 0
    ranks: dict[str, list[int | None]] = {}
    answerable = 0
    chunks = 0
    for n, rec in enumerate(records):
        path = EVAL / "cuad" / "contracts" / f"{rec['contract_id']}.txt"
        index = WorkspaceIndex(tmp / f"cuad-{n}", embedder)
        report = index.ingest_file(path)
        chunks += report.chunk_count
        text = index.document_text_span(report.document_id, 0, 10**9)
        aligned += text == rec["context"]
        if text != rec["context"]:
            print(f"warning: extracted text differs from CUAD context for {path.name}")
        qas = rec["qas"] if isinstance(rec["qas"], list) else json.loads(rec["qas"])
        for qa in qas:
            if qa.get("is_impossible") or not qa["answers"]:
                continue
            answerable += 1
            gold = [(a["answer_start"], a["answer_start"] + len(a["text"])) for a in qa["answers"]]

            def right(hit: Any, gold: list[tuple[int, int]] = gold) -> bool:
                return any(hit.chunk.start < e and s < hit.chunk.end for s, e in gold)

            for variant, query in (("question", qa["question"]), ("short", short_query(qa))):
                for mode in MODES:
                    hits = index.search(query, k=K_MRR, mode=mode)
                    ranks.setdefault(f"{variant}/{mode}", []).append(first_right(hits, right))
        index.close()
    out: dict[str, Any] = {
        "contracts": len(records),
        "contracts_text_aligned": aligned,
        "answerable_questions": answerable,
        "chunks": chunks,
    }
    out.update({key: score(r) for key, r in ranks.items()})
    return out


# -- latency -------------------------------------------------------------------------------


def _units(rng: Any, n: int, dim: int) -> Any:
    """n random unit vectors (numpy float32 array)."""
    v = rng.standard_normal((n, dim)).astype("float32")
    return v / (v * v).sum(axis=1, keepdims=True) ** 0.5


def percentiles(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {
        "p50_ms": 1000 * statistics.median(s),
        "p95_ms": 1000 * s[min(len(s) - 1, round(0.95 * (len(s) - 1)))],
    }


def bench_chroma(
    tmp: Path, sizes: Sequence[int], queries: int, dim: int = 384
) -> list[dict[str, Any]]:
    """Fill one collection (cosine HNSW, as the index creates it) up to each size, then time
    queries. Vectors are generated outside the timed adds."""
    import numpy as np

    from rag.store import VectorStore

    rng = np.random.default_rng(7)
    store = VectorStore(tmp / "chroma-latency")
    out: list[dict[str, Any]] = []
    have, add_s, batch = 0, 0.0, 5000
    for size in sizes:
        for lo in range(have, size, batch):
            hi = min(lo + batch, size)
            vectors = _units(rng, hi - lo, dim)
            metas = [{"document_id": f"d{i // 20}", "version": 1, "page": 1} for i in range(lo, hi)]
            started = time.perf_counter()
            store.collection.upsert(
                ids=[f"v{i}" for i in range(lo, hi)], embeddings=vectors, metadatas=metas
            )
            add_s += time.perf_counter() - started
        have = size
        qs = _units(rng, queries, dim).tolist()
        for n in (5, 28):  # k=5, and the depth that search(k=5) asks for
            times = []
            for q in qs:
                started = time.perf_counter()
                store.query(q, n)
                times.append(time.perf_counter() - started)
            out.append({"vectors": size, "n_results": n, **percentiles(times)})
        out[-1]["cumulative_add_seconds"] = add_s
        print(f"chroma {size}: {out[-2:]}", flush=True)
    store.close()
    return out


class _SyntheticVectors:
    """Poses as the real embedder (same name and dimension) but returns random unit vectors,
    so a 10k-chunk workspace can be built in seconds; it is then reopened with the real one."""

    def __init__(self, real: Any) -> None:
        import numpy as np

        self.name, self.dimension = real.name, real.dimension
        self._rng = np.random.default_rng(11)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return _units(self._rng, len(texts), self.dimension).tolist()  # type: ignore[no-any-return]


def bench_hybrid(embedder: Any, tmp: Path, size: int, queries: int) -> dict[str, Any]:
    from rag.index import WorkspaceIndex
    from rag.types import Chunk, Page, ParsedDocument

    sentences: list[str] = []
    for path in sorted((EVAL / "cuad" / "contracts").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [s.strip() for s in re.split(r"(?<=[.;])\s+", text) if len(s.strip()) > 20]
    for line in (EVAL / "pubmedqa" / "dev.jsonl").open(encoding="utf-8"):
        for context in json.loads(line)["contexts"]:
            sentences += [s for s in re.split(r"(?<=\.)\s+", context) if len(s) > 20]
    rng = random.Random(3)
    root = tmp / "hybrid"
    fake = WorkspaceIndex(root, _SyntheticVectors(embedder))  # type: ignore[arg-type]
    per_doc, made, doc = 50, 0, 0
    started = time.perf_counter()
    while made < size:
        chunks: list[Chunk] = []
        text = ""
        for _ in range(min(per_doc, size - made)):
            body = ""
            while len(body) < 700:
                body += rng.choice(sentences) + " "
            start = len(text)
            text += body.strip() + "\n\n"
            end = start + len(body.strip())
            chunks.append(Chunk(f"c{len(chunks)}", "", 1, start, end, body.strip()))
        parsed = ParsedDocument(text=text, pages=[Page(1, 0, len(text))])
        fake.ingest_parsed(Path(f"/synthetic/{doc}.txt"), parsed, chunks=chunks)
        made += len(chunks)
        doc += 1
    build_s = time.perf_counter() - started
    fake.close()
    index = WorkspaceIndex(root, embedder)
    qs = [json.loads(line)["question"] for line in (EVAL / "pubmedqa" / "dev.jsonl").open()]
    out: dict[str, Any] = {"chunks": index.manifest.live_chunk_count(), "build_seconds": build_s}
    index.search("warm up", k=5)
    for mode in MODES:
        times = []
        for q in qs[:queries]:
            started = time.perf_counter()
            index.search(q, k=5, mode=mode)
            times.append(time.perf_counter() - started)
        out[mode] = percentiles(times)
    times = []
    for q in qs[:queries]:
        started = time.perf_counter()
        embedder.embed([q])
        times.append(time.perf_counter() - started)
    out["query_embedding_only"] = percentiles(times)
    index.close()
    return out


# -- report --------------------------------------------------------------------------------


def markdown(d: dict[str, Any]) -> str:
    lines = ["## Retrieval (`bench/bench_retrieval.py`)", ""]
    lines.append(
        f"{d['machine']}; embedder {d['embedder']}. Re-run: `{COMMAND}` "
        f"({d['total_seconds'] / 60:.1f} min for this run)."
    )
    load = d.get("load_average_1min_at_end")
    if load is not None and load > (os.cpu_count() or 1):
        lines.append(
            f"Other work shared the machine (load average {load:.1f} on {os.cpu_count()} cores "
            "at the end): latencies are inflated; the quality figures do not depend on load."
        )
    if d.get("carried_over"):
        lines.append(f"Sections {', '.join(d['carried_over'])} are from the previous run.")
    lines.append("")
    if "pubmedqa" in d:
        p = d["pubmedqa"]
        lines += [
            f"PubMedQA dev: {p['questions']} questions, every context pooled into one workspace "
            f"({p['documents']} documents, {p['chunks']} chunks, ingested in "
            f"{p['ingest_seconds']:.0f} s). Right = a chunk of one of the question's contexts.",
            "",
            "| mode | recall@5 | MRR@10 |",
            "|---|---:|---:|",
        ]
        lines += [f"| {m} | {p[m]['recall@5']:.3f} | {p[m]['mrr@10']:.3f} |" for m in MODES]
        lines.append("")
    if "cuad" in d:
        c = d["cuad"]
        lines += [
            f"CUAD: {c['answerable_questions']} answerable clause questions over "
            f"{c['contracts']} contracts, one workspace per contract ({c['chunks']} chunks); "
            f"extracted text identical to CUAD's context for {c['contracts_text_aligned']}/"
            f"{c['contracts']} contracts, so answer offsets apply as-is. Right = the chunk's span "
            "overlaps a gold answer span. 'question' = CUAD's question verbatim; 'short' = "
            '"category: details" without the boilerplate.',
            "",
            "| query | mode | recall@5 | MRR@10 |",
            "|---|---|---:|---:|",
        ]
        for variant in ("question", "short"):
            for m in MODES:
                s = c[f"{variant}/{m}"]
                lines.append(f"| {variant} | {m} | {s['recall@5']:.3f} | {s['mrr@10']:.3f} |")
        lines.append("")
    if "chroma" in d:
        lines += [
            "Chroma query latency (synthetic unit 384-d vectors, cosine HNSW, one client):",
            "",
            "| vectors | n_results | p50 ms | p95 ms |",
            "|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['vectors']:,} | {r['n_results']} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} |"
            for r in d["chroma"]
        ]
        adds = [r for r in d["chroma"] if "cumulative_add_seconds" in r]
        if adds:
            last = adds[-1]
            lines.append("")
            lines.append(
                f"Adding {last['vectors']:,} vectors in batches of 5,000 took "
                f"{last['cumulative_add_seconds']:.0f} s "
                f"({last['vectors'] / last['cumulative_add_seconds']:,.0f} vectors/s)."
            )
        lines.append("")
    if "hybrid" in d:
        h = d["hybrid"]
        lines += [
            f"Full `search(k=5)` latency over {h['chunks']:,} chunks of real contract/abstract "
            "sentences (synthetic vectors; real query embedding), PubMedQA questions as queries:",
            "",
            "| mode | p50 ms | p95 ms |",
            "|---|---:|---:|",
        ]
        lines += [f"| {m} | {h[m]['p50_ms']:.1f} | {h[m]['p95_ms']:.1f} |" for m in MODES]
        q = h["query_embedding_only"]
        lines += [f"| (query embedding alone) | {q['p50_ms']:.1f} | {q['p95_ms']:.1f} |", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    from app.bootstrap import secure_process

    secure_process()
    from rag.embedder import SentenceTransformerEmbedder, default_embedder_path

    embedder = SentenceTransformerEmbedder(default_embedder_path())
    data: dict[str, Any] = {
        "machine": f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, CPU",
        "embedder": embedder.name,
        "command": COMMAND,
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="enclave-bench-retrieval-") as name:
        tmp = Path(name)
        if not args.skip_quality:
            data["pubmedqa"] = bench_pubmedqa(embedder, tmp)
            print("pubmedqa", data["pubmedqa"], flush=True)
            data["cuad"] = bench_cuad(embedder, tmp)
            print("cuad", data["cuad"], flush=True)
        if not args.skip_latency:
            sizes = [int(s) for s in args.sizes.split(",")]
            data["chroma"] = bench_chroma(tmp, sizes, args.queries)
            data["hybrid"] = bench_hybrid(embedder, tmp, 10_000, min(args.queries, 200))
            print("hybrid", data["hybrid"], flush=True)
    data["total_seconds"] = time.perf_counter() - started
    data["load_average_1min_at_end"] = os.getloadavg()[0]
    previous = RESULTS / "retrieval.json"
    if previous.exists():  # keep the sections this run skipped, from the last full run
        old = json.loads(previous.read_text(encoding="utf-8"))
        for key in ("pubmedqa", "cuad", "chroma", "hybrid"):
            if key not in data and key in old:
                data[key] = old[key]
                data.setdefault("carried_over", []).append(key)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    md = markdown(data)
    (RESULTS / "retrieval.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
