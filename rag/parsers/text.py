"""Plain text (.txt) and Markdown (.md): the decoded file contents are the extracted text.

Offsets of chunks index into the decoded text exactly as it is in the file (line endings are
not changed; a byte-order mark is not part of the text). Runs in-process on the caller's thread.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from rag.limits import ParseLimits
from rag.parsers import NO_TEXT, ParseRejected, format_mb, single_page
from rag.types import ParsedDocument

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Multi-byte East Asian codecs that charset-normalizer sometimes picks for short Western text.
_CJK_PREFIXES = ("shift_jis", "cp932", "euc_j", "gb", "big5", "euc_kr", "cp949", "iso2022", "hz")
_SHORT_INPUT = 4096
_MAX_CONTROL_RATIO = 0.01

NOT_TEXT = "This file does not look like text (it may be a binary file with a text file's name)."


def read_limited(path: Path, limits: ParseLimits) -> bytes:
    """The file's bytes; rejects empty files and files over limits.max_file_mb."""
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise ParseRejected(
                f"The file is {format_mb(size)}; the limit is {format_mb(limits.max_file_bytes)} "
                "(max_file_mb in settings)."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ParseRejected(f"The file cannot be read ({exc.strerror or exc}).") from exc
    if not data:
        raise ParseRejected("Empty file")
    return data


def decode_bytes(data: bytes) -> tuple[str, str, bool]:
    """Decode text of unknown encoding -> (text, encoding, guessed).

    Order: byte-order mark, then strict UTF-8, then charset-normalizer's best guess
    (`guessed` is True only in that last case). Raises ParseRejected for binary data.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), encoding, False
            except UnicodeDecodeError as exc:
                name = encoding.upper()
                raise ParseRejected(
                    f"The file says it is {name} text but is not valid {name} (it may be damaged)."
                ) from exc
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        pass
    guess = _guess_encoding(data)
    if guess is None:
        raise ParseRejected(NOT_TEXT)
    try:
        return data.decode(guess), guess, True
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseRejected(NOT_TEXT) from exc


def _guess_encoding(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    has_nul = b"\x00" in data
    for match in from_bytes(data):
        name = match.encoding.lower()
        if not has_nul and name.startswith(("utf_16", "utf_32")):
            continue  # UTF-16/32 text without a single zero byte is not plausible
        if name.startswith(_CJK_PREFIXES) and len(data) < _SHORT_INPUT:
            try:
                data.decode("cp1252")
                return "cp1252"  # short Western text misread as CJK: seen in practice
            except UnicodeDecodeError:
                pass
        return str(match.encoding)
    return None


def _looks_binary(text: str) -> bool:
    sample = text[:100_000]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return controls > max(2, len(sample) * _MAX_CONTROL_RATIO)


def text_from_bytes(data: bytes, limits: ParseLimits) -> tuple[str, list[str]]:
    """Decoded text plus warnings (an encoding that had to be guessed is one)."""
    if len(data) > 4 * limits.max_chars:  # more than max_chars in any encoding: don't decode
        raise ParseRejected(
            f"The document has more than {limits.max_chars:,} characters of text "
            "(max_chars in settings)."
        )
    text, encoding, guessed = decode_bytes(data)
    if _looks_binary(text):
        raise ParseRejected(NOT_TEXT)
    if len(text) > limits.max_chars:
        raise ParseRejected(
            f"The document has {len(text):,} characters of text; the limit is "
            f"{limits.max_chars:,} (max_chars in settings)."
        )
    warnings = []
    if guessed:
        warnings.append(
            f"The file does not say how its text is encoded; Enclave read it as {encoding} "
            "(a guess). If letters look wrong in answers, save the file as UTF-8 and add it again."
        )
    return text, warnings


def parse_text(path: Path, limits: ParseLimits) -> ParsedDocument:
    """A .txt or .md file -> one page (number 1) holding the decoded file contents."""
    text, warnings = text_from_bytes(read_limited(path, limits), limits)
    if not text.strip():
        raise ParseRejected(NO_TEXT)
    return single_page(text, warnings)
