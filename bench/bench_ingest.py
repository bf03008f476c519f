"""End-to-end ingestion (`WorkspaceIndex.ingest_file`) vs raw `SentenceTransformer.encode`.

Files: the 20 CUAD contracts (.txt) in ../shared/eval/cuad/contracts and the 4 contract PDFs in
../shared/eval/docs/pdf/legal. Ingest = hash + extract (PDFs in a limited worker process) +
chunk + embed + chroma write + one SQLite transaction per file, into a fresh workspace on disk.
Anchor: the same model object's `encode()` on exactly the chunks that ingestion produces (the
same extract + chunker, computed apart and checked equal to what the manifest stores), one
call per document (ingest also embeds a document's chunks in one call, up to 256).
Each file's raw encode runs right before or after its ingest (alternating), so both see the
same load on a shared machine. Ratio = raw encode seconds / ingest seconds = ingest chunks/s /
raw chunks/s; target >= 0.8. The median over --repeat runs is reported.

    .venv/bin/python bench/bench_ingest.py [--repeat 2]

Writes bench/results/ingest.json and bench/results/ingest.md.

    .venv/bin/python bench/bench_ingest.py --backends [--files N]

compares the embedder's back-ends instead (issue 13): PyTorch (sentence-transformers), ONNX
Runtime fp32 and, when the install step made it, ONNX Runtime int8 (the install-time files),
raw on the same chunks and end to end (each file ingested into one workspace per back-end, in
rotating order, its raw encodes beside it), wall and CPU seconds, with the minimum cosine of
each back-end's vectors against PyTorch's. Writes bench/results/embedder.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EVAL = REPO.parent / "shared" / "eval"
RESULTS = REPO / "bench" / "results"
COMMAND = ".venv/bin/python bench/bench_ingest.py"


def corpus() -> list[Path]:
    txt = sorted((EVAL / "cuad" / "contracts").glob("*.txt"))
    pdf = sorted((EVAL / "docs" / "pdf" / "legal").glob("*.pdf"))
    return txt + pdf


class TimedEmbedder:
    """The real embedder, with the time spent inside embed() added up."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dimension = inner, inner.name, inner.dimension
        self.seconds = 0.0

    def embed(self, texts: Any) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)  # type: ignore[no-any-return]
        finally:
            self.seconds += time.perf_counter() - started


def chunk_texts(files: list[Path]) -> list[list[str]]:
    """The chunks ingestion will make of each file (same extract + chunker, computed apart)."""
    from rag.chunking import chunk_document
    from rag.extract import extract

    out = []
    for path in files:
        parsed = extract(path).parsed
        assert parsed is not None, path
        out.append([c.text for c in chunk_document("x", parsed)])
    return out


def encode(model: Any, texts: list[str], batch_size: int) -> float:
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started


def run_paired(
    files: list[Path], texts: list[list[str]], embedder: Any, model: Any, batch_size: int
) -> dict[str, Any]:
    """Ingest every file into a fresh workspace and, file by file, encode the same chunks raw
    right before or after (alternating), so both see the same load on a shared machine."""
    from rag.index import WorkspaceIndex

    timed = TimedEmbedder(embedder)
    stage_time: dict[str, float] = defaultdict(float)
    raw_s = 0.0
    pages = chunks = 0
    outcomes: dict[str, int] = defaultdict(int)
    with tempfile.TemporaryDirectory(prefix="enclave-bench-ingest-") as tmp:
        index = WorkspaceIndex(Path(tmp) / "ws", timed)
        last: list[Any] = [0.0, "start"]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.perf_counter()
            stage_time[last[1]] += now - last[0]
            last[0], last[1] = now, stage

        for n, (path, doc_texts) in enumerate(zip(files, texts, strict=True)):
            if n % 2:
                raw_s += encode(model, doc_texts, batch_size)
            last[0], last[1] = time.perf_counter(), "start"
            report = index.ingest_file(path, progress=progress)
            stage_time[last[1]] += time.perf_counter() - last[0]
            if not n % 2:
                raw_s += encode(model, doc_texts, batch_size)
            stored = [c.text for c in index.manifest.document_chunks(report.document_id)]
            assert stored == doc_texts, f"ingest made other chunks than expected for {path}"
            outcomes[report.outcome] += 1
            pages += report.pages
            chunks += report.chunk_count
        index.close()
    ingest_s = sum(stage_time.values())
    return {
        "ingest_seconds": ingest_s,
        "raw_seconds": raw_s,
        "embed_inside_ingest_seconds": timed.seconds,
        "ratio": raw_s / ingest_s,
        "pages": pages,
        "chunks": chunks,
        "outcomes": dict(outcomes),
        "stage_seconds": {k: round(v, 3) for k, v in stage_time.items()},
    }


def run_backends(files: list[Path], texts: list[list[str]], arms: dict[str, Any]) -> dict[str, Any]:
    """Per file, in rotating order: encode its chunks raw with each back-end, then ingest it into
    one workspace per back-end. Wall and CPU seconds add up per arm; the first arm (PyTorch)
    is the reference of the ratios and of the cosines."""
    import numpy as np

    from rag.index import WorkspaceIndex

    names = list(arms)
    raw_s, raw_cpu, ingest_s, ingest_cpu = ({k: 0.0 for k in arms} for _ in range(4))
    worst = dict.fromkeys(arms, 1.0)
    chunks = pages = 0
    with tempfile.TemporaryDirectory(prefix="enclave-bench-backends-") as tmp:
        indexes = {k: WorkspaceIndex(Path(tmp) / k, e) for k, e in arms.items()}
        for n, (path, doc_texts) in enumerate(zip(files, texts, strict=True)):
            order = names[n % len(names) :] + names[: n % len(names)]
            vectors = {}
            for arm in order:
                started, cpu = time.perf_counter(), time.process_time()
                vectors[arm] = np.asarray(arms[arm].embed(doc_texts))
                raw_s[arm] += time.perf_counter() - started
                raw_cpu[arm] += time.process_time() - cpu
            for arm in order:
                started, cpu = time.perf_counter(), time.process_time()
                report = indexes[arm].ingest_file(path)
                ingest_s[arm] += time.perf_counter() - started
                ingest_cpu[arm] += time.process_time() - cpu
            for arm in arms:
                cos = float((vectors[arm] * vectors[names[0]]).sum(axis=1).min())
                worst[arm] = min(worst[arm], cos)
            chunks += report.chunk_count
            pages += report.pages
            print(f"  {path.name[:50]}: {len(doc_texts)} chunks", flush=True)
        for index in indexes.values():
            index.close()
    ref = names[0]

    def per(d: dict[str, float], unit: str) -> dict[str, float]:
        return {k: round(chunks / v, 2) for k, v in d.items()} if unit == "rate" else d

    return {
        "files": len(files),
        "pages": pages,
        "chunks": chunks,
        "embedder_names": {k: e.name for k, e in arms.items()},
        "raw_seconds": {k: round(v, 2) for k, v in raw_s.items()},
        "raw_cpu_seconds": {k: round(v, 2) for k, v in raw_cpu.items()},
        "raw_chunks_per_s": per(raw_s, "rate"),
        "ingest_seconds": {k: round(v, 2) for k, v in ingest_s.items()},
        "ingest_cpu_seconds": {k: round(v, 2) for k, v in ingest_cpu.items()},
        "ingest_chunks_per_s": per(ingest_s, "rate"),
        "ingest_chunks_per_cpu_s": per(ingest_cpu, "rate"),
        "raw_speedup_over_torch": {k: round(raw_s[ref] / v, 2) for k, v in raw_s.items()},
        "raw_cpu_speedup_over_torch": {k: round(raw_cpu[ref] / v, 2) for k, v in raw_cpu.items()},
        "end_to_end_speedup_over_torch": {
            k: round(ingest_s[ref] / v, 2) for k, v in ingest_s.items()
        },
        "end_to_end_cpu_speedup_over_torch": {
            k: round(ingest_cpu[ref] / v, 2) for k, v in ingest_cpu.items()
        },
        "min_cosine_vs_torch": {k: round(v, 6) for k, v in worst.items()},
    }


def main_backends(files_limit: int | None) -> int:
    from app.bootstrap import secure_process

    secure_process()
    from rag.embedder import SentenceTransformerEmbedder, default_embedder_path
    from rag.onnx_embedder import OnnxEmbedder, installed_int8_path, installed_onnx_path

    model_path = default_embedder_path()
    arms: dict[str, Any] = {
        "torch": SentenceTransformerEmbedder(model_path),
        "onnx_fp32": OnnxEmbedder(model_path, installed_onnx_path()),
    }
    if installed_int8_path().is_file():
        arms["onnx_int8"] = OnnxEmbedder(model_path, installed_int8_path())
    for emb in arms.values():
        emb.embed(["warm up the model"] * 8)
    files = corpus()
    if files_limit:  # an even spread of the .txt contracts and the PDFs
        step = max(1, len(files) // files_limit)
        files = files[::step][:files_limit]
    texts = chunk_texts(files)
    load_before = os.getloadavg()[0]
    result = run_backends(files, texts, arms)
    load_after = os.getloadavg()[0]
    result |= {
        "machine": f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, CPU",
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "target_end_to_end_speedup": 2.5,
        "command": f"{COMMAND} --backends" + (f" --files {files_limit}" if files_limit else ""),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embedder.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


def markdown(d: dict[str, Any]) -> str:
    runs = d["runs"]
    best = max(runs, key=lambda r: r["ratio"])
    rows = [
        f"| {n} | {r['ingest_seconds']:.1f} | {r['chunks'] / r['ingest_seconds']:.1f} | "
        f"{r['pages'] / r['ingest_seconds']:.2f} | {r['raw_seconds']:.1f} | "
        f"{r['chunks'] / r['raw_seconds']:.1f} | {r['embed_inside_ingest_seconds']:.1f} | "
        f"{r['ratio']:.2f} |"
        for n, r in enumerate(runs, start=1)
    ]
    lines = [
        "## Ingestion (`bench/bench_ingest.py`)",
        "",
        f"`WorkspaceIndex.ingest_file` (hash, extract, chunk, embed, chroma write, one SQLite "
        f"transaction per file) on {d['files']} real contracts ({d['txt']} CUAD .txt + "
        f"{d['pdf']} PDFs, {best['pages']} pages, {best['chunks']} chunks) into a fresh "
        "workspace, against the same model object's raw `SentenceTransformer.encode` on exactly "
        "the same chunks, file by file (raw right before or after each ingest, alternating, so "
        f"both see the same load). {d['machine']}. Re-run: `{d['command']}`.",
        "",
        "| run | ingest s | ingest chunks/s | ingest pages/s | raw encode s | raw chunks/s "
        "| embed() inside ingest s | ratio ingest/raw |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"**Ratio ingest throughput / raw encode throughput: median {d['ratio_median']:.2f}** "
        "(target >= 0.8). Where ingest time goes (seconds, run with the best ratio): "
        + ", ".join(f"{k} {v:.2f}" for k, v in sorted(best["stage_seconds"].items()))
        + " ('embedding' includes the chroma writes).",
        "",
    ]
    if d.get("load_note"):
        lines += [d["load_note"], ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--backends", action="store_true", help="PyTorch vs ONNX Runtime")
    parser.add_argument("--files", type=int, default=None, help="with --backends: N files")
    args = parser.parse_args()
    if args.backends:
        return main_backends(args.files)

    from app.bootstrap import secure_process

    secure_process()
    from rag.embedder import SentenceTransformerEmbedder, default_embedder_path

    embedder = SentenceTransformerEmbedder(default_embedder_path(), batch_size=args.batch_size)
    model = embedder._model
    model.encode(["warm up the model"] * 8, show_progress_bar=False)
    files = corpus()
    texts = chunk_texts(files)
    load_before = os.getloadavg()[0]
    runs = [run_paired(files, texts, embedder, model, args.batch_size) for _ in range(args.repeat)]
    load_after = os.getloadavg()[0]
    data = {
        "files": len(files),
        "txt": sum(p.suffix == ".txt" for p in files),
        "pdf": sum(p.suffix == ".pdf" for p in files),
        "batch_size": args.batch_size,
        "machine": f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, CPU",
        "embedder": embedder.name,
        "runs": runs,
        "ratio_median": statistics.median(r["ratio"] for r in runs),
        "load_average": [load_before, load_after],
        "load_note": (
            f"Load average {load_before:.1f} before and {load_after:.1f} after on "
            f"{os.cpu_count()} cores: other work shared the machine, so absolute rates are low "
            "and only the paired ratio is meaningful."
            if max(load_before, load_after) > (os.cpu_count() or 1)
            else ""
        ),
        "command": f"{COMMAND} --repeat {args.repeat}",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    md = markdown(data)
    (RESULTS / "ingest.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
