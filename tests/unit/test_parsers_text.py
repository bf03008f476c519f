"""TXT and Markdown: the decoded file contents are the extracted text (real files in tmp_path)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from rag.extract import SUPPORTED_SUFFIXES, extract
from rag.limits import ParseLimits
from rag.parsers import ParseRejected
from rag.parsers.text import decode_bytes, parse_text

CONTRACT = (
    "1. Term. This Agreement starts on the Effective Date and runs for two years.\r\n"
    "2. Fees. The Client pays €1,200 per month; late payments bear interest.\r\n"
)
# Long enough for an encoding detector to have something to go on, with Western letters.
WESTERN = (
    "Le contrat est résilié à la date prévue, sauf accord écrit des deux parties. "
    "Les frais s’élèvent à 1 200 € par mois. Reçu signé par M. Müller, Größe 1,80 m.\n"
) * 3


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_utf8_text_is_the_file_contents_exactly(tmp_path: Path) -> None:
    path = write(tmp_path, "contract.txt", CONTRACT.encode("utf-8"))
    result = extract(path)
    assert result.outcome == "ok"
    assert result.reason == "" and result.warnings == []
    assert result.parsed is not None
    assert result.parsed.text == CONTRACT  # \r\n kept: offsets are into the decoded file
    [page] = result.parsed.pages
    assert (page.number, page.start, page.end) == (1, 0, len(CONTRACT))


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_byte_order_mark_decides_and_is_not_part_of_the_text(
    tmp_path: Path, bom: bytes, encoding: str
) -> None:
    path = write(tmp_path, "notes.txt", bom + CONTRACT.encode(encoding))
    result = extract(path)
    assert result.outcome == "ok", result.reason
    assert result.parsed is not None and result.parsed.text == CONTRACT


def test_utf16_written_by_python_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_text(WESTERN, encoding="utf-16")  # BOM + native byte order
    parsed = parse_text(path, ParseLimits())
    assert parsed.text == WESTERN


def test_cp1252_is_detected_and_the_guess_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "legacy.txt", WESTERN.encode("cp1252"))
    result = extract(path)
    assert result.outcome == "ok_with_warnings"
    assert result.parsed is not None and result.parsed.text == WESTERN
    assert "UTF-8" in result.warnings[0] and "guess" in result.warnings[0]


def test_short_cp1252_text_is_not_read_as_east_asian() -> None:
    data = "Der Patient klagt über Schmerzen. Größe 1,80 m. Äußerst schön.\n".encode("cp1252")
    text, encoding, guessed = decode_bytes(data)
    assert guessed
    assert text == data.decode("cp1252"), encoding


def test_markdown_is_decoded_text(tmp_path: Path) -> None:
    md = "# Discharge summary\n\n- Aspirin 100 mg\n- Follow-up in **two** weeks\n"
    path = write(tmp_path, "summary.md", md.encode("utf-8"))
    result = extract(path)
    assert result.outcome == "ok"
    assert result.parsed is not None and result.parsed.text == md


def test_empty_file_is_rejected_as_empty(tmp_path: Path) -> None:
    result = extract(write(tmp_path, "empty.txt", b""))
    assert (result.outcome, result.reason, result.parsed) == ("rejected", "Empty file", None)


def test_whitespace_only_file_contains_no_text(tmp_path: Path) -> None:
    result = extract(write(tmp_path, "blank.md", b" \n\n\t  \r\n"))
    assert result.outcome == "rejected"
    assert result.reason == "The document contains no text."


def test_binary_data_with_a_txt_name_is_rejected(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    result = extract(write(tmp_path, "image.txt", data))
    assert result.outcome == "rejected"
    assert "does not look like text" in result.reason


def test_unsupported_suffix_and_missing_file(tmp_path: Path) -> None:
    result = extract(write(tmp_path, "sheet.xyz", b"a,b\n1,2\n"))
    assert (result.outcome, result.reason) == ("rejected", "Unsupported file type .xyz")
    assert ".xyz" not in SUPPORTED_SUFFIXES
    gone = extract(tmp_path / "gone.txt")
    assert gone.outcome == "rejected" and "does not exist" in gone.reason
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert "folder" in extract(folder).reason


def test_file_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", b"word " * 2000)
    result = extract(path, limits=ParseLimits(max_file_mb=0.005))
    assert result.outcome == "rejected"
    assert "max_file_mb" in result.reason and "limit" in result.reason


def test_character_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "long.txt", b"word " * 2000)
    with pytest.raises(ParseRejected, match="max_chars"):
        parse_text(path, ParseLimits(max_chars=5000))


def test_invalid_text_after_a_bom_is_rejected_as_damaged(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.txt", codecs.BOM_UTF8 + b"ok \xff\xfe\xfd broken")
    result = extract(path)
    assert result.outcome == "rejected" and "damaged" in result.reason


def test_a_pipe_with_a_text_name_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes are POSIX-only")
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)  # reading it would block forever
    result = extract(pipe)
    assert result.outcome == "rejected" and "not a regular file" in result.reason
