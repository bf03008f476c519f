"""Text in, text out, faithfully (issue 12): encodings, contents before names, limits on the
visible text, big Word files and entity references. Real files written in tmp_path."""

from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

import pytest

from rag.extract import NO_EXTENSION, extract, sniff_kind
from rag.limits import ParseLimits
from rag.parsers import ParseRejected
from rag.parsers.html import MARKUP_FACTOR
from rag.parsers.text import decode_bytes, read_limited, wide_encoding
from tests.unit.test_parsers_docx import build_docx
from tests.unit.test_parsers_pdf import make_pdf

SPANISH = (
    "El niño comió piña en España. La señora Muñoz pagó la cuota del año pasado y el médico "
    "revisó su corazón.\n"
)
WESTERN_SAMPLES = [
    SPANISH,
    "Mañana",
    "Diagnóstico: hipertensión arterial. Tratamiento: enalapril 10 mg cada día.\n",
    "Le médecin a prescrit un traitement à la patiente âgée; elle reçoit déjà des soins.\n",
    "A paciente não apresentou reação alérgica; a situação é estável.\n",
    "Il paziente è stato dimesso; la terapia continuerà per più di una settimana.\n",
    "The party\u2019s \u201cobligations\u201d \u2013 fees of \u20ac500 \u2026 survive.\n",
    "Jeg bor i København og går på arbejde hver dag; min søster bor i Århus.\n",
]
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- encodings ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", WESTERN_SAMPLES)
def test_latin1_text_is_read_as_western_not_central_european(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "carta.txt", text.encode("cp1252"))
    result = extract(path)
    assert result.parsed is not None, result.reason
    assert result.parsed.text == text
    assert "ń" not in result.parsed.text
    assert "cp1252" in result.warnings[0] and "guess" in result.warnings[0]


def test_the_n_tilde_of_iso_8859_1_survives(tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.txt", SPANISH.encode("iso-8859-1"))
    result = extract(path)
    assert (
        result.parsed is not None and "niño" in result.parsed.text and "piña" in result.parsed.text
    )


@pytest.mark.parametrize(
    "text",
    [
        "Zażółć gęślą jaźń. Pacjent został przyjęty do szpitala z bólem w klatce piersiowej.\n",
        "Smlouva o dílo uzavřená mezi objednatelem a zhotovitelem podle občanského zákoníku.\n",
    ],
)
def test_central_european_text_is_still_read_as_cp1250(text: str) -> None:
    decoded, encoding, guessed = decode_bytes(text.encode("cp1250"))
    assert guessed and decoded == text, encoding


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_a_bom_are_found_by_their_zero_bytes(
    tmp_path: Path, encoding: str
) -> None:
    path = write(tmp_path / "export.txt", SPANISH.encode(encoding))  # no byte-order mark
    assert wide_encoding(path.read_bytes()) == encoding
    result = extract(path)
    assert result.outcome == "ok", result.reason
    assert result.parsed is not None and result.parsed.text == SPANISH


def test_ascii_and_binary_data_are_not_taken_for_utf16(tmp_path: Path) -> None:
    assert wide_encoding(b"plain ascii text, nothing wide about it\n") is None
    result = extract(write(tmp_path / "image.txt", bytes(range(256)) * 40))
    assert result.outcome == "rejected" and "does not look like text" in result.reason


# -- contents before names ----------------------------------------------------------------
def test_a_pdf_named_txt_is_read_as_a_pdf(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan-result.txt", ["Discharge letter\nAspirin 100 mg daily."])
    result = extract(path)
    assert result.outcome == "ok_with_warnings", result.reason
    assert result.parsed is not None and "Aspirin 100 mg daily." in result.parsed.text
    assert "%PDF" not in result.parsed.text
    assert "ends in .txt" in result.warnings[0] and "PDF" in result.warnings[0]


def test_a_word_file_named_txt_and_one_without_extension_are_read_as_word(tmp_path: Path) -> None:
    for name in ("agreement.txt", "agreement"):
        path = build_docx(tmp_path / name)
        assert sniff_kind(path) == "docx"
        result = extract(path)
        assert result.parsed is not None, result.reason
        assert "Settlement Agreement" in result.parsed.text
        assert "Word document" in result.warnings[0]


def test_html_named_md_is_read_as_html(tmp_path: Path) -> None:
    page = b"\xef\xbb\xbf  <!DOCTYPE html><html><body><p>Referral &amp; letter</p></body></html>"
    result = extract(write(tmp_path / "referral.md", page))
    assert result.parsed is not None and result.parsed.text == "Referral & letter"


def test_a_file_without_extension_that_is_not_a_document_is_refused(tmp_path: Path) -> None:
    result = extract(write(tmp_path / "LICENSE", b"Permission is hereby granted...\n"))
    assert (result.outcome, result.reason) == ("rejected", NO_EXTENSION)


def test_a_zip_named_txt_that_is_not_word_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "archive.txt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello " * 100)
    assert sniff_kind(path) is None
    result = extract(path)
    assert result.outcome == "rejected" and "does not look like text" in result.reason


def test_text_that_merely_mentions_a_pdf_header_is_text(tmp_path: Path) -> None:
    note = b"Our PDFs start with %PDF-1.7 and end with %%EOF.\n"
    result = extract(write(tmp_path / "note.txt", note))
    assert result.parsed is not None and result.parsed.text == note.decode()


@pytest.mark.timeout(30)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX-only")
def test_reading_and_sniffing_never_wait_on_a_pipe(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    outcome: list[object] = []

    def probe() -> None:
        outcome.append(sniff_kind(pipe))
        try:
            read_limited(pipe, ParseLimits())
        except ParseRejected as exc:
            outcome.append(exc.reason)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock it before failing, so the test run can end
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("opening a pipe waited for a writer")
    assert outcome[0] is None and "not a regular file" in str(outcome[1])


# -- HTML: the limit is on the visible text ------------------------------------------------
def _markup_heavy(visible: str, padding: int) -> bytes:
    style = "<style>" + ".c { color: #123456; margin: 0 }\n" * (padding // 36) + "</style>"
    script = "<script>var tracking = " + '"x"+' * (padding // 8) + '"";</script>'
    spans = "".join(
        f'<span class="c" data-i="{i}">{w}</span> ' for i, w in enumerate(visible.split())
    )
    return f"<html><head>{style}</head><body>{script}<p>{spans}</p></body></html>".encode()


def test_markup_heavy_html_is_judged_by_its_text(tmp_path: Path) -> None:
    visible = "The patient is stable and may go home tomorrow morning. " * 10  # ~570 chars
    page = _markup_heavy(visible, 20_000)
    assert len(page) > 10 * len(visible)
    path = write(tmp_path / "page.html", page)
    limits = ParseLimits(max_chars=1_000)
    result = extract(path, limits=limits)
    assert result.outcome == "ok", result.reason
    assert result.parsed is not None and result.parsed.text == visible.strip()


def test_html_limits_name_the_setting(tmp_path: Path) -> None:
    limits = ParseLimits(max_chars=1_000)
    too_much_text = write(tmp_path / "long.html", _markup_heavy("word " * 400, 100))
    result = extract(too_much_text, limits=limits)
    assert result.outcome == "rejected"
    assert "characters of text" in result.reason and "max_chars" in result.reason
    huge_markup = write(tmp_path / "huge.html", _markup_heavy("short", MARKUP_FACTOR * 1_200))
    result = extract(huge_markup, limits=limits)
    assert result.outcome == "rejected"
    assert "markup" in result.reason and f"{MARKUP_FACTOR} times max_chars" in result.reason
    declared = _markup_heavy("short", MARKUP_FACTOR * 1_200).replace(
        b"<head>", b'<head><meta charset="windows-1252">'
    )
    result = extract(write(tmp_path / "declared.html", declared), limits=limits)
    assert "markup" in result.reason and "max_chars" in result.reason


# -- Word: big is not damaged; text after an entity is kept -------------------------------
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)


def write_docx(path: Path, body: str, doctype: str = "") -> Path:
    """A minimal, valid .docx package whose body is the given WordprocessingML."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
        f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("word/document.xml", document)
    return path


def test_a_big_valid_word_file_is_over_the_limit_not_damaged(tmp_path: Path) -> None:
    # One run of 11 MB of text: past libxml2's default cap on a text node.
    words = "clause " * (11 * 1024 * 1024 // 7)
    path = write_docx(tmp_path / "big.docx", f"<w:p><w:r><w:t>{words}</w:t></w:r></w:p>")
    result = extract(path, limits=ParseLimits(max_chars=5_000_000))
    assert result.outcome == "rejected"
    assert "damaged" not in result.reason
    assert "5,000,000" in result.reason and "max_chars" in result.reason
    within = extract(path)  # the default limit (20 million characters) lets it in
    assert within.outcome == "ok", within.reason
    assert within.parsed is not None and len(within.parsed.text) == len(words.strip())


def test_text_after_an_entity_reference_in_a_run_is_kept(tmp_path: Path) -> None:
    body = (
        "<w:p><w:r><w:t>A &amp; B</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Fee &lt;5%&gt; &#8364;10</w:t></w:r></w:p>"
        '<w:p><w:r><w:t xml:space="preserve">Signed by &party; on&nbsp;1 May, </w:t></w:r>'
        "<w:r><w:t>in London.</w:t></w:r></w:p>"
    )
    doctype = '<!DOCTYPE w:document [<!ENTITY party "ACME"><!ENTITY nbsp "&#160;">]>'
    result = extract(write_docx(tmp_path / "entities.docx", body, doctype))
    assert result.parsed is not None, result.reason
    assert result.parsed.text.split("\n\n") == [
        "A & B",
        "Fee <5%> €10",
        "Signed by &party; on\xa01 May, in London.",  # never expanded, never dropped
    ]
