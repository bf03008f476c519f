"""PDF: real PDFs written with PDFium in tmp_path, parsed through extract() and its worker."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rag.extract import extract
from rag.limits import ParseLimits
from rag.parsers import PAGE_SEPARATOR
from rag.parsers.pdf import SCANNED, clean_page_text

IMAGE = "<image>"


def make_pdf(path: Path, pages: list[str | None]) -> Path:
    """One PDF page per entry: text lines (Helvetica), None (blank) or IMAGE (an image only)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument.new()
    for spec in pages:
        page = pdf.new_page(612, 792)
        if spec == IMAGE:
            image = pdfium.PdfImage.new(pdf)
            image.set_bitmap(pdfium.PdfBitmap.new_native(32, 32, pdfium_c.FPDFBitmap_BGR))
            image.set_matrix(pdfium.PdfMatrix().scale(400, 400).translate(100, 100))
            page.insert_obj(image)
        elif spec:
            y = 740.0
            for line in spec.split("\n"):
                obj = pdfium_c.FPDFPageObj_NewTextObj(pdf, b"Helvetica", 11.0)
                buf = ctypes.create_string_buffer((line + "\0").encode("utf-16-le"))
                pdfium_c.FPDFText_SetText(
                    obj, ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR))
                )
                pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 50, y)
                pdfium_c.FPDFPage_InsertObject(page, obj)
                y -= 14
        page.gen_content()
        page.close()
    pdf.save(str(path))
    pdf.close()
    return path


PAGE_1 = "Discharge letter\nThe patient was admitted on 3 March."
PAGE_3 = "Medication: aspirin 100 mg daily, café au lait."


def test_pages_are_extracted_in_order_with_offsets(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "letter, final (v2) é.pdf", [PAGE_1, None, PAGE_3])
    result = extract(path)
    assert result.outcome == "ok", result.reason  # a blank page is not worth a warning
    parsed = result.parsed
    assert parsed is not None
    assert [p.number for p in parsed.pages] == [1, 2, 3]
    assert parsed.page_text(parsed.pages[0]) == PAGE_1
    assert parsed.page_text(parsed.pages[1]) == ""
    assert parsed.page_text(parsed.pages[2]) == PAGE_3
    assert parsed.text == PAGE_SEPARATOR.join([PAGE_1, "", PAGE_3])


def test_page_without_text_layer_is_named_in_a_warning(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "hybrid.pdf", [PAGE_1, IMAGE, PAGE_3, IMAGE, IMAGE])
    result = extract(path)
    assert result.outcome == "ok_with_warnings"
    assert result.parsed is not None and len(result.parsed.pages) == 5
    [warning] = result.warnings
    assert "pages 2, 4-5" in warning and "OCR" in warning


def test_scan_without_text_layer_is_rejected_as_such(tmp_path: Path) -> None:
    result = extract(make_pdf(tmp_path / "scan.pdf", [IMAGE, IMAGE]))
    assert (result.outcome, result.reason, result.parsed) == ("rejected", SCANNED, None)


def test_blank_pdf_contains_no_text(tmp_path: Path) -> None:
    result = extract(make_pdf(tmp_path / "blank.pdf", [None]))
    assert result.outcome == "rejected" and "contains no text" in result.reason


def test_max_pages(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "three.pdf", ["one", "two", "three"])
    result = extract(path, limits=ParseLimits(max_pages=2))
    assert result.outcome == "rejected"
    assert "3 pages" in result.reason and "max_pages" in result.reason
    assert extract(path, limits=ParseLimits(max_pages=3)).outcome == "ok"


def test_worker_past_its_time_limit_is_killed(tmp_path: Path) -> None:
    # The worker's clock starts when it reads its request (its imports are done ahead), and it
    # checks the clock after each page: 200 pages take longer than 0.01 s on any machine.
    path = make_pdf(tmp_path / "slow.pdf", [PAGE_1] * 200)
    result = extract(path, limits=ParseLimits(timeout_s=0.01))
    assert result.outcome == "rejected"
    assert "took longer than 0.01 s" in result.reason


def test_worker_over_its_memory_limit_is_stopped(tmp_path: Path) -> None:
    pytest.importorskip("resource", reason="memory limits are POSIX-only")
    path = make_pdf(tmp_path / "big.pdf", [PAGE_1])
    result = extract(path, limits=ParseLimits(memory_mb=8))  # less than Python itself needs
    assert result.outcome == "rejected"
    assert "needed more than 8 MB" in result.reason


def test_character_limit(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "chars.pdf", [PAGE_1, PAGE_3])
    result = extract(path, limits=ParseLimits(max_chars=60))
    assert result.outcome == "rejected" and "max_chars" in result.reason


def test_truncated_pdf_is_rejected_as_damaged(tmp_path: Path) -> None:
    whole = make_pdf(tmp_path / "whole.pdf", [PAGE_1, PAGE_3]).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: int(len(whole) * 0.6)])
    result = extract(cut)
    assert result.outcome == "rejected"
    assert result.reason.startswith("The file is damaged or incomplete and cannot be read")


def test_other_file_named_pdf_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("not a pdf at all\n" * 10)
    result = extract(path)
    assert result.outcome == "rejected" and "not a PDF" in result.reason


def test_password_goes_to_the_worker_by_stdin_not_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    real_popen = subprocess.Popen

    class Spy(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args: Any, **kwargs: Any) -> None:
            seen.append(args)
            super().__init__(args, **kwargs)

        def communicate(self, input: Any = None, timeout: Any = None) -> Any:
            seen.append(input)
            return super().communicate(input, timeout)

    import rag.extract

    rag.extract.close_workers()  # the worker that reads the file is started through the spy
    monkeypatch.setattr(subprocess, "Popen", Spy)
    path = make_pdf(tmp_path / "plain.pdf", [PAGE_1])
    result = extract(path, password="s3cret-pässwört")
    assert result.outcome == "ok"  # an unencrypted PDF ignores a password
    rag.extract.close_workers()
    argvs = [s for s in seen if isinstance(s, list)]  # the worker's, and the next spare's
    (stdin,) = [s for s in seen if isinstance(s, bytes)]
    assert len(argvs) == 2 and not any("s3cret" in str(arg) for argv in argvs for arg in argv)
    assert "s3cret-p\\u00e4ssw\\u00f6rt" in stdin.decode() or "s3cret-pässwört" in stdin.decode()


def test_clean_page_text() -> None:
    raw = "com\x02pile the \ufb01rst\r\nline\x0cnext\ufffeword"
    assert clean_page_text(raw) == "compile the first\nline nextword"


def test_worker_that_crashes_gives_a_reason_not_an_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import rag.extract

    path = make_pdf(tmp_path / "any.pdf", [PAGE_1])
    monkeypatch.setattr(
        rag.extract, "worker_command", lambda: [sys.executable, "-c", "import os; os.abort()"]
    )
    result = extract(path)
    assert result.outcome == "rejected"
    assert "stop unexpectedly" in result.reason or "stopped with code" in result.reason


def test_worker_that_cannot_start_gives_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.extract

    path = make_pdf(tmp_path / "any.pdf", [PAGE_1])
    missing = str(tmp_path / "no-such-python")
    monkeypatch.setattr(rag.extract, "worker_command", lambda: [missing, "-m", "rag.parse_worker"])
    result = extract(path)
    assert result.outcome == "rejected"
    assert result.reason.startswith("Enclave could not start its document reader")
