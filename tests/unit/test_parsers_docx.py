"""DOCX: real Word files built with python-docx in tmp_path, parsed in the worker process."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from rag.extract import extract
from rag.limits import ParseLimits
from rag.parsers import ParseRejected
from rag.parsers.docx import check_package, parse_docx


def build_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "PRIVILEGED & CONFIDENTIAL"
    section.footer.paragraphs[0].text = "Page footer of Smith v. Jones"
    document.add_heading("Settlement Agreement", level=1)
    intro = document.add_paragraph("The parties agree as follows.")
    document.add_paragraph("")  # an empty paragraph is spacing, not text
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).text = "Party"
    table.cell(0, 1).text = "Amount"
    table.cell(0, 2).text = "Due"
    table.cell(1, 0).text = "Smith"
    table.cell(1, 1).text = "$10,000"
    table.cell(1, 2).text = "1 May"
    merged = table.cell(2, 0).merge(table.cell(2, 2))
    merged.text = "Total payable within 30 days"
    nested = table.cell(1, 2).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "instalment A"
    nested.cell(0, 1).text = "instalment B"
    document.add_paragraph("Signed in London.")
    document.add_comment(intro.runs, text="Check the governing law clause.", author="AB")
    # A second section whose header is linked to the first: the header text appears once.
    document.add_section()
    document.add_paragraph("Schedule 1: payment details.")
    document.save(str(path))
    return path


def test_body_tables_headers_footers_and_comments_in_order(tmp_path: Path) -> None:
    path = build_docx(tmp_path / "agreement.docx")
    result = extract(path)  # through the worker process
    assert result.outcome == "ok", result.reason
    assert result.parsed is not None
    text = result.parsed.text
    assert text == parse_docx(path, ParseLimits()).text  # worker and in-process agree
    expected_order = [
        "PRIVILEGED & CONFIDENTIAL",
        "Settlement Agreement",
        "The parties agree as follows.",
        "Party | Amount | Due",
        "Smith | $10,000 | 1 May instalment A | instalment B",
        "Total payable within 30 days",
        "Signed in London.",
        "Schedule 1: payment details.",
        "Page footer of Smith v. Jones",
        "[Comment] Check the governing law clause.",
    ]
    positions = [text.index(piece) for piece in expected_order]
    assert positions == sorted(positions)
    assert text.count("PRIVILEGED & CONFIDENTIAL") == 1
    assert text.count("Total payable within 30 days") == 1  # a merged cell appears once
    assert "\n\n\n" not in text  # empty paragraphs are skipped
    [page] = result.parsed.pages  # a Word file has no pages: one page, number 1
    assert (page.number, page.start, page.end) == (1, 0, len(text))


def test_document_without_text_is_rejected(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("")
    document.add_table(rows=2, cols=2)
    path = tmp_path / "blank.docx"
    document.save(str(path))
    result = extract(path)
    assert (result.outcome, result.reason) == ("rejected", "The document contains no text.")


def test_truncated_docx_is_rejected_as_damaged(tmp_path: Path) -> None:
    whole = build_docx(tmp_path / "whole.docx").read_bytes()
    path = tmp_path / "cut.docx"
    path.write_bytes(whole[: len(whole) // 2])
    result = extract(path)
    assert result.outcome == "rejected"
    assert result.reason.startswith("The file is damaged or incomplete and cannot be read")


def test_text_file_named_docx_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_text("just text, not a Word file")
    result = extract(path)
    assert result.outcome == "rejected" and "damaged or incomplete" in result.reason


def test_zip_bomb_is_stopped_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (3 * 1024 * 1024))  # 3 MB, ~3 KB on disk
    assert path.stat().st_size < 50_000
    result = extract(path, limits=ParseLimits(max_decompressed_mb=1))
    assert result.outcome == "rejected"
    assert "expand" in result.reason and "max_decompressed_mb" in result.reason


def test_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ParseRejected, match="not a Word document"):
        check_package(path, ParseLimits())


def test_password_protected_word_file_says_so(tmp_path: Path) -> None:
    # Word saves a protected .docx as an OLE compound file holding an "EncryptedPackage" stream.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le")
    path = tmp_path / "protected.docx"
    path.write_bytes(ole + b"\0" * 1024)
    result = extract(path, password="anything")
    assert result.outcome == "rejected"
    assert "protected by a password" in result.reason


def test_tracked_changes_and_content_controls(tmp_path: Path) -> None:
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    redline = document.add_paragraph("The fee is ")
    redline._p.append(
        parse_xml(
            f"<w:ins {nsdecls('w')} w:id='1' w:author='AB'><w:r><w:t>EUR 900</w:t></w:r></w:ins>"
        )
    )
    redline._p.append(
        parse_xml(
            f"<w:del {nsdecls('w')} w:id='2' w:author='AB'>"
            "<w:r><w:delText>EUR 500</w:delText></w:r></w:del>"
        )
    )
    document.element.body.insert(
        0,
        parse_xml(
            f"<w:sdt {nsdecls('w')}><w:sdtPr><w:alias w:val='Client'/></w:sdtPr><w:sdtContent>"
            "<w:p><w:r><w:t>Client: Acme Ltd</w:t></w:r></w:p></w:sdtContent></w:sdt>"
        ),
    )
    path = tmp_path / "redline.docx"
    document.save(str(path))
    result = extract(path)
    assert result.outcome == "ok", result.reason
    assert result.parsed is not None
    assert result.parsed.text == "Client: Acme Ltd\n\nThe fee is EUR 900"
