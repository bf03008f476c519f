"""Every file of the shared evaluation set through extract(): one expected outcome per file.

The set is ../shared/eval/docs (37 files, described in its MANIFEST.md). Each PDF and DOCX is
parsed by the real worker process with the default limits; ok files are also chunked. The two
scans without a text layer are read by the real OCR engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.extract import ExtractResult, extract
from rag.limits import ParseLimits
from rag.parsers.pdf import NEEDS_PASSWORD, WRONG_PASSWORD

DOCS = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "docs"
DAMAGED = "The file is damaged or incomplete and cannot be read"
NO_TEXT = "The document contains no text"


@dataclass(frozen=True)
class Expect:
    outcome: str
    pages: int | None = None  # for ok PDFs: the page count from the manifest
    reason: str = ""  # for rejections: the start of the reason
    contains: str = ""  # for ok files: a phrase of the extracted text


EXPECTED: dict[str, Expect] = {
    "docx/comments-rich-para.docx": Expect("ok", contains="[Comment] Text with hyperlink"),
    "docx/having-images.docx": Expect("rejected", reason=NO_TEXT),
    "docx/hdr-header-footer.docx": Expect("ok", contains="Header for section-1"),
    "docx/num-having-numbering-part.docx": Expect("ok", contains="List Number style"),
    "docx/par-hyperlinks.docx": Expect("ok", contains="the first one here"),
    "docx/par-known-paragraphs.docx": Expect("ok", contains="Normal paragraph"),
    "docx/tbl-having-tables.docx": Expect("rejected", reason=NO_TEXT),
    "docx/test.docx": Expect("ok", contains="python-docx was here!"),
    "docx/truncated_test_docx_50pct.docx": Expect("rejected", reason=DAMAGED),
    "pdf/encrypted/issue21579.pdf": Expect("needs_password", reason=NEEDS_PASSWORD),
    "pdf/encrypted/libreoffice-writer-password.pdf": Expect(
        "needs_password", reason=NEEDS_PASSWORD
    ),
    "pdf/encrypted/r4-owner-password.pdf": Expect("ok", 1, contains="pdf encryption test"),
    "pdf/encrypted/r6-both-passwords.pdf": Expect("needs_password", reason=NEEDS_PASSWORD),
    "pdf/forms/SF424_page2.pdf": Expect("ok", 1),
    "pdf/forms/prefilled_f1040.pdf": Expect("ok", 2, contains="Form 1040"),
    "pdf/layout/habibi-rotated.pdf": Expect("ok", 4),
    "pdf/layout/with-attachment.pdf": Expect("ok", 1, contains="Lorem ipsum"),
    "pdf/legal/ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.pdf": Expect(
        "ok", 4, contains="CONSULTING AGREEMENT"
    ),
    "pdf/legal/ANIXABIOSCIENCESINC_06_09_2020-EX-10.1-COLLABORATION AGREEMENT.pdf": Expect(
        "ok", 15
    ),
    "pdf/legal/ATMOSENERGYCORP_11_22_2002-EX-10.17-TRANSPORTATION SERVICE AGREEMENT.pdf": Expect(
        "ok", 6
    ),
    "pdf/legal/LIMEENERGYCO_09_09_1999-EX-10-DISTRIBUTOR AGREEMENT.pdf": Expect(
        "ok", 10, contains="DISTRIBUTOR AGREEMENT"
    ),
    "pdf/malformed/PDFBOX-3148-2-fuzzed.pdf": Expect("rejected", reason=NO_TEXT),
    "pdf/malformed/invalid.pdf": Expect("rejected", reason=DAMAGED),
    "pdf/malformed/issue19800.pdf": Expect("rejected", reason=DAMAGED),
    "pdf/malformed/poppler-85140-0.pdf": Expect("rejected", reason=DAMAGED),
    "pdf/malformed/truncated_LIMEENERGYCO_60pct.pdf": Expect("rejected", reason=DAMAGED),
    "pdf/malformed/unreadablemetadata.pdf": Expect("rejected", reason=DAMAGED),
    "pdf/scanned/Seige_of_Vicksburg_Sample_OCR.pdf": Expect("ok", 6, contains="Vicksburg"),
    # No text layer: read by OCR (rag.parsers.scan), every page marked ocr.
    "pdf/scanned/c02-22.pdf": Expect("ok", 1, contains="tip-toeing along a path"),
    "pdf/scanned/epson.pdf": Expect("ok", 1, contains="Optical character recognition"),
    "pdf/stress/many_pages_2000.pdf": Expect("ok", 2000),
    "pdf/text/GeoBase_NHNC1_Data_Model_UML_EN.pdf": Expect("ok", 19),
    "pdf/text/GeoTopo-komprimiert.pdf": Expect("ok", 117, contains="Topologische Räume"),
    "pdf/text/multicolumn.pdf": Expect("ok", 3),
    "pdf/text/pdflatex-4-pages.pdf": Expect("ok", 4),
    "pdf/text/pdflatex-outline.pdf": Expect("ok", 4),
    "pdf/text/tracemonkey.pdf": Expect("ok", 14, contains="Trace-based Just-in-Time"),
}

PASSWORDS = {
    "pdf/encrypted/issue21579.pdf": ("pässwört", "If you can read this, decryption succeeded"),
    "pdf/encrypted/libreoffice-writer-password.pdf": ("openpassword", "Lorem ipsum"),
    "pdf/encrypted/r6-both-passwords.pdf": ("foo", "pdf encryption test"),
}

pytestmark = pytest.mark.skipif(
    not DOCS.is_dir(), reason=f"the shared evaluation documents are not at {DOCS}"
)


def test_the_table_names_every_file() -> None:
    on_disk = {
        p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*") if p.is_file() and p.suffix != ".md"
    }
    assert on_disk == set(EXPECTED)
    assert len(EXPECTED) == 37


def check_ok(result: ExtractResult, pages: int | None, contains: str) -> None:
    assert result.parsed is not None and result.reason == ""
    parsed = result.parsed
    assert parsed.text.strip()
    if pages is not None:
        assert [p.number for p in parsed.pages] == list(range(1, pages + 1))
    for page in parsed.pages:
        assert 0 <= page.start <= page.end <= len(parsed.text)
    assert contains in parsed.text
    chunks = chunk_document("doc", parsed)
    assert chunks, "an indexed file must give at least one chunk"
    for chunk in chunks[:200] + chunks[-50:]:
        assert chunk.text == parsed.text[chunk.start : chunk.end]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_eval_file_has_its_expected_outcome(name: str) -> None:
    expect = EXPECTED[name]
    result = extract(DOCS / name)
    assert result.outcome == expect.outcome, result.reason
    if expect.outcome == "ok":
        check_ok(result, expect.pages, expect.contains)
    else:
        assert result.parsed is None
        assert result.reason.startswith(expect.reason), result.reason


@pytest.mark.parametrize("name", sorted(PASSWORDS))
def test_user_password_pdfs_open_with_the_right_password_only(name: str) -> None:
    password, phrase = PASSWORDS[name]
    opened = extract(DOCS / name, password=password)
    assert opened.outcome == "ok", opened.reason
    check_ok(opened, 1, phrase)
    wrong = extract(DOCS / name, password="not-the-password")
    assert (wrong.outcome, wrong.reason, wrong.parsed) == ("needs_password", WRONG_PASSWORD, None)


def test_owner_only_pdf_opens_whatever_password_is_given() -> None:
    result = extract(DOCS / "pdf/encrypted/r4-owner-password.pdf", password="unrelated")
    assert result.outcome == "ok"


def test_scans_are_read_by_ocr_and_their_pages_say_so() -> None:
    for name in ("pdf/scanned/c02-22.pdf", "pdf/scanned/epson.pdf"):
        result = extract(DOCS / name)
        assert result.outcome == "ok", (result.reason, result.warnings)
        assert result.parsed is not None
        assert [p.ocr for p in result.parsed.pages] == [True]
    # The hybrid scan has its own (invisible) text layer: it is used, and OCR is not.
    hybrid = extract(DOCS / "pdf/scanned/Seige_of_Vicksburg_Sample_OCR.pdf")
    assert hybrid.parsed is not None and not any(p.ocr for p in hybrid.parsed.pages)


def test_a_worker_past_its_time_limit_is_killed() -> None:
    # Reading 2,000 pages takes seconds (about 3 s here, raw PDFium alone); the worker is
    # stopped half a second after it was started, in the middle of the pages.
    limits = ParseLimits(timeout_s=0.5)
    result = extract(DOCS / "pdf/stress/many_pages_2000.pdf", limits=limits)
    assert (result.outcome, result.parsed) == ("rejected", None)
    assert result.reason.startswith("Reading the file took longer than 0.5 s")


def test_page_limit() -> None:
    result = extract(DOCS / "pdf/stress/many_pages_2000.pdf", limits=ParseLimits(max_pages=1999))
    assert result.outcome == "rejected"
    assert result.reason.startswith("The PDF has 2,000 pages; the limit is 1,999")
