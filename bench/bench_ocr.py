"""OCR: character accuracy and pages/s of Enclave's OCR (rag.ocr) vs raw RapidOCR and Tesseract.

Pages of the text PDFs of ../shared/eval/docs are rendered with PDFium (grey, 200 dpi, the
resolution Enclave renders scanned pages at) and read by OCR; the reference is the page's own
text layer (as rag.parsers.pdf cleans it). Character accuracy = 1 - Levenshtein(ocr, reference)
/ len(reference), whitespace collapsed to single spaces on both sides (reading order counts).

- enclave: rag.ocr.OcrEngine as the parse worker uses it (1 inference thread, reading order).
- raw rapidocr: RapidOCR with the same models and its default settings (all cores, boxes in the
  library's own order): the anchor for the ratio.
- tesseract: the Debian `tesseract` command (eng, --psm 3), when it is on PATH (for the engine
  comparison in docs/OCR.md; not a dependency of Enclave).

    .venv/bin/python bench/bench_ocr.py [--engines enclave,rapidocr,tesseract] [--dpi 200]

Writes bench/results/ocr.json. Timings on a shared 2-core machine vary with its load: the
ratios, measured page by page in the same run, are the figures to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DOCS = REPO.parent / "shared" / "eval" / "docs" / "pdf" / "text"
RESULTS = REPO / "bench" / "results"
PAGES = [  # (file, 1-based pages): one-column, tables, and two-column layouts
    ("pdflatex-4-pages.pdf", [1, 2]),
    ("pdflatex-outline.pdf", [1, 2]),
    ("GeoBase_NHNC1_Data_Model_UML_EN.pdf", [3, 6]),
    ("tracemonkey.pdf", [2]),
    ("multicolumn.pdf", [1]),
]
ONE_COLUMN = {"pdflatex-4-pages.pdf", "pdflatex-outline.pdf", "GeoBase_NHNC1_Data_Model_UML_EN.pdf"}


def char_accuracy(ocr: str, reference: str) -> float:
    """The tests' measure (tests/integration/ocr_pages.py), so bench and test agree."""
    from tests.integration.ocr_pages import char_accuracy as measure

    return measure(ocr, reference)


def rendered_pages(dpi: float) -> list[tuple[str, str, Any]]:
    """(label, reference text, grey PIL image) for each page of PAGES."""
    import pypdfium2 as pdfium

    from rag.parsers.pdf import clean_page_text, render_page

    out = []
    for name, numbers in PAGES:
        pdf = pdfium.PdfDocument(str(DOCS / name))
        for number in numbers:
            page = pdf[number - 1]
            reference = clean_page_text(page.get_textpage().get_text_bounded())
            out.append((f"{name} p{number}", reference, render_page(page, dpi)))
        pdf.close()
    return out


def enclave_reader() -> Any:
    from rag.ocr import OcrEngine

    engine = OcrEngine()
    return lambda image: engine.read(image).text


def raw_reader() -> Any:
    import numpy as np
    from rapidocr import RapidOCR

    from rag.ocr import MODEL_FILES, model_dir

    params: dict[str, Any] = {k: str(model_dir() / v) for k, v in MODEL_FILES.items()}
    params["Global.log_level"] = "error"
    engine = RapidOCR(params=params)

    def read(image: Any) -> str:
        result: Any = engine(np.asarray(image.convert("RGB")))
        return "\n".join(result.txts or ())

    return read


def tesseract_reader() -> Any:
    def read(image: Any) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "page.png"
            image.save(path)
            done = subprocess.run(
                ["tesseract", str(path), "-", "-l", "eng", "--psm", "3"],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
        return done.stdout

    return read


def measure(name: str, reader: Any, pages: list[tuple[str, str, Any]]) -> dict[str, Any]:
    reader(pages[0][2])  # warm-up: sessions made, caches filled
    rows = []
    for label, reference, image in pages:
        began = time.perf_counter()
        text = reader(image)
        seconds = time.perf_counter() - began
        rows.append(
            {
                "page": label,
                "seconds": round(seconds, 2),
                "accuracy": round(char_accuracy(text, reference), 4),
            }
        )
        print(
            f"{name:10s} {label:42s} accuracy {rows[-1]['accuracy']:.4f}  {seconds:.1f} s",
            flush=True,
        )
    total = sum(r["seconds"] for r in rows)
    one_col = [r["accuracy"] for r in rows if r["page"].split(" p")[0] in ONE_COLUMN]
    return {
        "pages": rows,
        "mean_accuracy": round(sum(r["accuracy"] for r in rows) / len(rows), 4),
        "mean_accuracy_one_column": round(sum(one_col) / len(one_col), 4),
        "pages_per_s": round(len(rows) / total, 3),
    }


def main() -> int:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="enclave,rapidocr,tesseract")
    ap.add_argument("--dpi", type=float, default=200)
    args = ap.parse_args()
    pages = rendered_pages(args.dpi)
    readers = {"enclave": enclave_reader, "rapidocr": raw_reader, "tesseract": tesseract_reader}
    results: dict[str, Any] = {}
    for name in args.engines.split(","):
        if name == "tesseract" and shutil.which("tesseract") is None:
            print("tesseract is not on PATH: skipped")
            continue
        results[name] = measure(name, readers[name](), pages)
    if "enclave" in results and "rapidocr" in results:
        results["ratio_enclave_to_raw_pages_per_s"] = round(
            results["enclave"]["pages_per_s"] / results["rapidocr"]["pages_per_s"], 3
        )
    load = os.getloadavg()
    out = {
        "command": ".venv/bin/python bench/bench_ocr.py " + " ".join(sys.argv[1:]),
        "dpi": args.dpi,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m": round(load[0], 1),
        },
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ocr.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if not isinstance(v, dict)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
