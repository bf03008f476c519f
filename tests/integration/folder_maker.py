"""A generated folder of mixed documents, as a matter or a clinic's share holds them: text PDFs,
DOCX, TXT and HTML with distinct words, exact duplicates, broken files and image-only PDFs (as a
scanner writes them). Deterministic for a seed. Used by bench/bench_bigfolder.py and the
resumable-ingest tests. Files are written one at a time; nothing is kept in memory."""

from __future__ import annotations

import ctypes
import random
import shutil
from collections import Counter
from pathlib import Path

WORDS = (
    "agreement licensee licensor patient referral discharge medication dosage clinic tribunal "
    "indemnity warranty termination renewal exclusivity confidential invoice schedule exhibit "
    "witness statement deposition claimant respondent diagnosis allergy hypertension insulin "
    "radiology pathology consent guardian tenancy lease landlord covenant breach remedy notice "
    "arbitration jurisdiction governing counterparty supplier milestone royalty audit payment"
).split()
PER_FOLDER = 100  # files per subfolder, as a share grows


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return f"Item {n}: " + " ".join(words).capitalize() + "."


def paragraphs(rng: random.Random, n: int, count: int) -> list[str]:
    return [" ".join(sentence(rng, n * 100 + i + j) for j in range(4)) for i in range(count)]


def text_pdf(path: Path, pages: list[str]) -> None:
    """A PDF with a real text layer (Helvetica), one entry per page, via PDFium."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument.new()
    for spec in pages:
        page = pdf.new_page(612, 792)
        y = 740.0
        for k in range(0, len(spec), 90):
            obj = pdfium_c.FPDFPageObj_NewTextObj(pdf, b"Helvetica", 10.0)
            buf = ctypes.create_string_buffer((spec[k : k + 90] + "\0").encode("utf-16-le"))
            pdfium_c.FPDFText_SetText(obj, ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
            pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 40, y)
            pdfium_c.FPDFPage_InsertObject(page, obj)
            y -= 13
        page.gen_content()
        page.close()
    pdf.save(str(path))
    pdf.close()


def scanned_pdf(path: Path, lines: list[str]) -> None:
    """An image-only PDF of a printed page (no text layer), at fax resolution."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (1275, 1650), 255)  # a letter page at 150 dpi
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=30)
    for i, line in enumerate(lines):
        draw.text((100, 120 + 48 * i), line, font=font, fill=0)
    page.convert("RGB").save(path, resolution=150.0)


def docx_file(path: Path, paras: list[str]) -> None:
    import docx

    doc = docx.Document()
    doc.add_heading(paras[0][:40], level=1)
    for p in paras:
        doc.add_paragraph(p)
    doc.save(str(path))


def html_file(path: Path, paras: list[str]) -> None:
    body = "".join(f"<p>{p}</p>" for p in paras)
    path.write_text(
        f"<html><head><title>Note</title></head><body><h1>Note</h1>{body}</body></html>",
        encoding="utf-8",
    )


def broken_file(path_stem: Path, rng: random.Random) -> Path:
    """A damaged file of one of three kinds: a truncated PDF, a 'DOCX' of random bytes, empty."""
    kind = rng.randrange(3)
    if kind == 0:
        path = path_stem.with_suffix(".pdf")
        path.write_bytes(
            b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + b"x" * 40
        )
    elif kind == 1:
        path = path_stem.with_suffix(".docx")
        path.write_bytes(rng.randbytes(2048))
    else:
        path = path_stem.with_suffix(".txt")
        path.write_bytes(b"")
    return path


def make_folder(root: Path, n: int, *, seed: int = 13, scanned: int | None = None) -> Counter[str]:
    """Write `n` files under `root` (subfolders of PER_FOLDER). Of them: ~3% exact duplicates
    of an earlier file, ~3% broken, `scanned` image-only PDFs (default: 1 per 500, at least 1
    when n >= 50); the rest TXT 40%, PDF 25%, DOCX 20%, HTML 15%. Returns counts by kind."""
    rng = random.Random(seed)
    scans = scanned if scanned is not None else (max(1, n // 500) if n >= 50 else 0)
    scan_at = set(rng.sample(range(n), min(scans, n)))
    kinds: Counter[str] = Counter()
    written: list[Path] = []
    for i in range(n):
        folder = root / f"box-{i // PER_FOLDER:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"doc-{i:05d}"
        roll = rng.random()
        if i in scan_at:
            scanned_pdf(stem.with_suffix(".pdf"), [sentence(rng, i)[:60] for _ in range(6)])
            kinds["scanned_pdf"] += 1
            continue
        if written and roll < 0.03:
            source = rng.choice(written)
            shutil.copyfile(source, stem.with_suffix(source.suffix))
            kinds["duplicate"] += 1
            continue
        if roll < 0.06:
            broken_file(stem, rng)
            kinds["broken"] += 1
            continue
        paras = paragraphs(rng, i, rng.randint(2, 5))
        pick = rng.random()
        if pick < 0.40:
            path = stem.with_suffix(".txt")
            path.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
            kinds["txt"] += 1
        elif pick < 0.65:
            path = stem.with_suffix(".pdf")
            text_pdf(path, [" ".join(paras[k : k + 2]) for k in range(0, len(paras), 2)])
            kinds["pdf"] += 1
        elif pick < 0.85:
            path = stem.with_suffix(".docx")
            docx_file(path, paras)
            kinds["docx"] += 1
        else:
            path = stem.with_suffix(".html")
            html_file(path, paras)
            kinds["html"] += 1
        if len(written) < 200:
            written.append(path)
    return kinds


def make_text_folder(root: Path, n: int, *, seed: int = 7) -> list[Path]:
    """`n` small TXT files (fast to ingest) with distinct words, for the kill/restart tests."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = root / f"note-{i:04d}.txt"
        path.write_text("\n\n".join(paragraphs(rng, i, 2)) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
