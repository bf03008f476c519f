"""Plain text (.txt) and Markdown (.md): the decoded file contents are the extracted text.

Offsets of chunks index into the decoded text exactly as it is in the file (line endings are
not changed; a byte-order mark is not part of the text). Runs in-process on the caller's thread.

How the encoding is found, in order: a byte-order mark; the zero-byte pattern of UTF-16 or
UTF-32 without a mark (ASCII letters stored in two or four bytes); strict UTF-8; then
charset-normalizer's guess, corrected where it is known to go wrong: short Western text read as
East Asian, and Western text read as a Central European or other single-byte code page (an
n-tilde "ñ" read as an n-acute "ń"): when the detector picks another single-byte code page but
the bytes read as Western text in cp1252 (see `reads_as_western`), cp1252 (a superset of
Latin-1) wins. Text that is just as plausible both ways (some Hungarian) is then read as cp1252;
the guess is always named in a warning.
"""

from __future__ import annotations

import codecs
import os
import stat
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from rag.limits import ParseLimits
from rag.parsers import NO_TEXT, ParseRejected, format_mb, single_page
from rag.types import ParsedDocument

if TYPE_CHECKING:
    from charset_normalizer.models import CharsetMatch

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
_WESTERN = "cp1252"
_WESTERN_NAMES = frozenset({"cp1252", "latin_1", "iso8859_1", "iso8859_15"})
# Letters of a cp1252 reading that Western text uses often, where other code pages put rare
# ones (ŕ ń ă ĺ ć) ...
_WESTERN_TELLS = frozenset("àÀñÑãÃåÅæÆ")
# ... and letters Western text seldom uses, where other code pages put common ones: ř ě (Czech),
# š ž (Central European), ğ ı ş (Turkish).
_OTHER_TELLS = frozenset("øØìÌšŠžŽðÐýÝþÞ")
# Western text has some accented letters among many plain ones; Cyrillic or Greek bytes read
# as cp1252 are accented "letters" almost throughout.
_MAX_ACCENTED_SHARE = 0.35
# Punctuation and signs of Western text in cp1252 (besides letters). Those of _IN_WORDS may
# stand between two letters; another between letters ("Za¿ó³æ") is a sign of another code page.
_WESTERN_SIGNS = frozenset("‘’‚“”„–—…•·«»‹›€£¥¢§¶©®™°±×÷¹²³µ¼½¾¡¿ªº†‡‰ˆ˜\xa0\xad")
_IN_WORDS = frozenset("‘’·–—\xad")
_ZERO_SHARE = 0.3  # UTF-16 ASCII text: every other byte is zero
_ZERO_SAMPLE = 4096

NOT_TEXT = "This file does not look like text (it may be a binary file with a text file's name)."


def read_limited(path: Path, limits: ParseLimits) -> bytes:
    """The file's bytes; rejects empty files, files over limits.max_file_mb, and anything that
    is not a regular file (opened without blocking, so a pipe swapped in is never waited on)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise ParseRejected(f"The file cannot be read ({exc.strerror or exc}).") from exc
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ParseRejected("This is not a regular file (a device, a pipe or the like).")
            if info.st_size > limits.max_file_bytes:
                raise ParseRejected(
                    f"The file is {format_mb(info.st_size)}; the limit is "
                    f"{format_mb(limits.max_file_bytes)} (max_file_mb in settings)."
                )
            data = fh.read(limits.max_file_bytes + 1)
        except OSError as exc:
            raise ParseRejected(f"The file cannot be read ({exc.strerror or exc}).") from exc
    if len(data) > limits.max_file_bytes:  # it grew while being read
        raise ParseRejected(
            f"The file is over the limit of {format_mb(limits.max_file_bytes)} "
            "(max_file_mb in settings)."
        )
    if not data:
        raise ParseRejected("Empty file")
    return data


def decode_bytes(data: bytes) -> tuple[str, str, bool]:
    """Decode text of unknown encoding -> (text, encoding, guessed).

    Order: see the module docstring (`guessed` is True only for the detector's guess, corrected
    or not). Raises ParseRejected for binary data.
    """
    bom = _decode_with_bom(data)
    if bom is not None:
        return bom[0], bom[1], False
    wide = _decode_by_zero_bytes(data)
    if wide is not None:
        return wide[0], wide[1], False
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


def _decode_with_bom(data: bytes) -> tuple[str, str] | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), encoding
            except UnicodeDecodeError as exc:
                name = encoding.upper()
                raise ParseRejected(
                    f"The file says it is {name} text but is not valid {name} (it may be damaged)."
                ) from exc
    return None


def wide_encoding(data: bytes) -> str | None:
    """ "utf-16-le", "utf-16-be", "utf-32-le" or "utf-32-be" when the zero bytes fall as they do
    in mostly-ASCII text stored in two or four bytes a character (no byte-order mark needed)."""
    sample = data[:_ZERO_SAMPLE]
    if len(data) % 4 == 0 and len(sample) >= 16:
        zero = _zero_shares(sample, 4)
        if zero[0] < 0.05 and zero[2] > 0.9 and zero[3] > 0.9:
            return "utf-32-le"
        if zero[0] > 0.9 and zero[1] > 0.9 and zero[3] < 0.05:
            return "utf-32-be"
    if len(data) % 2 == 0 and len(sample) >= 8:
        zero = _zero_shares(sample, 2)
        if zero[0] < 0.05 and zero[1] > _ZERO_SHARE:
            return "utf-16-le"
        if zero[1] < 0.05 and zero[0] > _ZERO_SHARE:
            return "utf-16-be"
    return None


def _zero_shares(sample: bytes, width: int) -> list[float]:
    """For each byte position within a `width`-byte unit, the share of zero bytes there."""
    lanes = [sample[i::width] for i in range(width)]
    return [lane.count(0) / len(lane) for lane in lanes]


def _decode_by_zero_bytes(data: bytes) -> tuple[str, str] | None:
    encoding = wide_encoding(data)
    if encoding is None:
        return None
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        return None  # only looked like it: let the other rules decide


def _guess_encoding(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    has_nul = b"\x00" in data
    matches = [
        match
        for match in from_bytes(data)
        if has_nul or not match.encoding.lower().startswith(("utf_16", "utf_32"))
    ]  # UTF-16/32 text without a single zero byte is not plausible
    if not matches:
        return None
    best = matches[0]
    name = best.encoding.lower()
    if name.startswith(_CJK_PREFIXES) and len(data) < _SHORT_INPUT and _decodes(data, _WESTERN):
        return _WESTERN  # short Western text misread as CJK: seen in practice
    if _prefer_western(data, best):
        return _WESTERN
    return str(best.encoding)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _prefer_western(data: bytes, best: CharsetMatch) -> bool:
    """True when the detector chose another single-byte code page for what reads as Western
    text in cp1252."""
    from charset_normalizer.utils import is_multi_byte_encoding

    name = best.encoding.lower()
    if name in _WESTERN_NAMES or is_multi_byte_encoding(name):
        return False
    return reads_as_western(data)


def reads_as_western(data: bytes) -> bool:
    """Whether `data` read as cp1252 looks like Western European text: every non-ASCII
    character a Latin letter or a usual sign (not wedged between letters), accented letters a
    minority of the letters, and letters typical of Western text at least as many as letters
    typical of a misread other code page."""
    try:
        text = data.decode(_WESTERN)
    except UnicodeDecodeError:
        return False
    letters = accented = odd = others = tells = 0
    for i, ch in enumerate(text):
        if ch.isalpha():
            letters += 1
        if ord(ch) < 128:
            continue
        others += 1
        if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            accented += 1
            tells += (ch in _WESTERN_TELLS) - (ch in _OTHER_TELLS)
        elif ch not in _WESTERN_SIGNS or (ch not in _IN_WORDS and _between_letters(text, i)):
            odd += 1
    return others > 0 and odd == 0 and tells >= 0 and accented <= letters * _MAX_ACCENTED_SHARE


def _between_letters(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()


def _looks_binary(text: str) -> bool:
    sample = text[:100_000]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    return controls > max(2, len(sample) * _MAX_CONTROL_RATIO)


def too_many_chars(count: int | None, limits: ParseLimits) -> ParseRejected:
    """The rejection for extracted text over limits.max_chars (`count` None: not counted)."""
    if count is None:
        return ParseRejected(
            f"The document has more than {limits.max_chars:,} characters of text "
            "(max_chars in settings)."
        )
    return ParseRejected(
        f"The document has {count:,} characters of text; the limit is {limits.max_chars:,} "
        "(max_chars in settings)."
    )


def too_much_markup(count: int | None, cap: int, limits: ParseLimits) -> ParseRejected:
    """The rejection for markup (HTML) over `cap` characters, a multiple of max_chars."""
    has = f"{count:,} characters" if count is not None else f"more than {cap:,} characters"
    return ParseRejected(
        f"The web page has {has} of markup; the limit is {cap:,} "
        f"({cap // limits.max_chars} times max_chars in settings)."
    )


def text_from_bytes(
    data: bytes, limits: ParseLimits, *, max_chars: int | None = None
) -> tuple[str, list[str]]:
    """Decoded text plus warnings (an encoding that had to be guessed is one). `max_chars`
    (default limits.max_chars) caps the decoded characters; HTML passes a larger cap for its
    markup and applies limits.max_chars to the visible text."""
    cap = limits.max_chars if max_chars is None else max_chars
    if len(data) > 4 * cap:  # more than the cap in any encoding: don't decode
        raise _over_cap(None, cap, limits)
    text, encoding, guessed = decode_bytes(data)
    if _looks_binary(text):
        raise ParseRejected(NOT_TEXT)
    if len(text) > cap:
        raise _over_cap(len(text), cap, limits)
    warnings = []
    if guessed:
        warnings.append(
            f"The file does not say how its text is encoded; Enclave read it as {encoding} "
            "(a guess). If letters look wrong in answers, save the file as UTF-8 and add it again."
        )
    return text, warnings


def _over_cap(count: int | None, cap: int, limits: ParseLimits) -> ParseRejected:
    if cap == limits.max_chars:
        return too_many_chars(count, limits)
    return too_much_markup(count, cap, limits)


def parse_text(path: Path, limits: ParseLimits) -> ParsedDocument:
    """A .txt or .md file -> one page (number 1) holding the decoded file contents."""
    text, warnings = text_from_bytes(read_limited(path, limits), limits)
    if not text.strip():
        raise ParseRejected(NO_TEXT)
    return single_page(text, warnings)
