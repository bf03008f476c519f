"""File names shown to a person, made safe: a name cannot spoof its extension or the screen.

A file name may hold any character but "/" and NUL: a right-to-left override (U+202E) makes
"invoice\u202efdp.exe" look like "invoiceexe.pdf", and a control character can move the cursor
or clear the line in a terminal. `display_name` escapes those characters so a person sees what
is really there: "invoice\\u202efdp.exe". Letters of any script, accents, emoji and spaces are
kept as they are. Bytes of a name that are not UTF-8 (which Python holds as lone surrogates,
U+DC80-U+DCFF) are shown as the byte, "\\xe9".

Use it wherever a file name (or a path) is shown: the CLI's ingest lines already do; the
window should for document names in its tables, progress line and messages.
"""

from __future__ import annotations

import unicodedata

# Format characters that join letters in Persian, Indic scripts and emoji: kept.
_JOINERS = frozenset({"\u200c", "\u200d"})
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SURROGATE_BYTES = range(0xDC80, 0xDD00)  # how os.fsdecode keeps a byte that is not UTF-8


def display_name(name: str) -> str:
    """`name` with every control, format (bidi overrides and isolates, zero-width marks),
    line-separator, private-use, unassigned and surrogate character escaped as \\xNN, \\uNNNN or
    \\UNNNNNNNN. Nothing else changes; a name without such characters comes back as it is."""
    if name.isprintable():  # no control, format, separator or surrogate character at all
        return name
    return "".join(_escape(ch) if _is_escaped(ch) else ch for ch in name)


def display_path(path: object) -> str:
    """display_name() of a whole path (str(path)), for messages that show where a file is."""
    return display_name(str(path))


def _is_escaped(ch: str) -> bool:
    if ch.isascii():
        return not ch.isprintable()
    return ch not in _JOINERS and unicodedata.category(ch) in _ESCAPED_CATEGORIES


def _escape(ch: str) -> str:
    code = ord(ch)
    if code in _SURROGATE_BYTES:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
