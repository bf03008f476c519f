"""HTML (.html, .htm) -> visible text, with the standard library's html.parser.

Drops <head>, <script>, <style>, <template>, <noscript>, <svg> and the like; keeps the text of
the body with paragraph and line breaks where block elements are, and table cells joined by
" | ". Character references (&amp;, &eacute;, &#8364;) are decoded. Nothing is ever fetched:
links, images and stylesheets are ignored. Called inside the parse worker (rag.parse_worker).

Limits: limits.max_chars applies to the visible text, as for any document, not to the markup
(a page can be mostly tags, scripts and styles); the markup itself may be up to
MARKUP_FACTOR times max_chars characters (and the file up to max_file_mb).
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser
from pathlib import Path

from rag.limits import ParseLimits
from rag.parsers import NO_TEXT, ParseRejected, single_page
from rag.parsers.text import read_limited, text_from_bytes, too_many_chars, too_much_markup
from rag.types import ParsedDocument

_SKIP = frozenset(
    {"script", "style", "template", "noscript", "svg", "math", "iframe", "object", "canvas"}
)
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"}
    | {"section", "article", "header", "footer", "nav", "aside", "main", "figure", "form", "hr"}
)
_LINE = frozenset(
    {"div", "li", "dt", "dd", "tr", "br", "caption", "figcaption", "address", "fieldset"}
    | {"legend", "summary", "details", "option", "tbody", "thead", "tfoot", "body", "title"}
)
_CELL = frozenset({"td", "th"})
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I
)
_WS = re.compile(r"\s+")
# What browsers actually do with these labels (WHATWG encoding standard).
_BROWSER_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252"}
MARKUP_FACTOR = 50
"""Markup may be this many times limits.max_chars characters; the visible text max_chars."""


class _TextCollector(HTMLParser):
    """Collects visible text as blocks; see html_to_text()."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []  # (separator before, text)
        self._buf: list[str] = []
        self._pending = ""
        self._skip_depth = 0
        self._in_head = False
        self._pre_depth = 0
        self._cells_in_row = 0

    # -- structure ---------------------------------------------------------------------
    def _brk(self, sep: str) -> None:
        self._flush()
        if len(sep) > len(self._pending):
            self._pending = sep

    def _flush(self) -> None:
        raw = "".join(self._buf)
        self._buf.clear()
        text = raw.strip("\r\n") if self._pre_depth else _WS.sub(" ", raw).strip()
        if text.strip():
            self.blocks.append((self._pending or "\n", text))
            self._pending = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
        if tag in _SKIP:
            self._skip_depth += 1
        if self._skip_depth or self._in_head:
            return
        if tag in _CELL:
            if self._cells_in_row:
                self._buf.append(" | ")
            self._cells_in_row += 1
        elif tag in _PARAGRAPH or tag in _LINE:
            if tag == "tr":
                self._cells_in_row = 0
            self._brk("\n\n" if tag in _PARAGRAPH else "\n")
            if tag == "pre":
                self._pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr") and not (self._skip_depth or self._in_head):
            self._brk("\n\n" if tag == "hr" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
            return
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if self._skip_depth or self._in_head:
            return
        if tag in _PARAGRAPH or tag in _LINE:
            self._brk("\n\n" if tag in _PARAGRAPH else "\n")
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
            if tag == "tr":
                self._cells_in_row = 0

    def handle_data(self, data: str) -> None:
        if not (self._skip_depth or self._in_head):
            self._buf.append(data)

    def text(self) -> str:
        self._flush()
        if not self.blocks:
            return ""
        first = self.blocks[0][1]
        return first + "".join(sep + block for sep, block in self.blocks[1:])


def html_to_text(markup: str) -> str:
    """Visible text of an HTML document (see the module docstring for the rules)."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return collector.text()


def _declared_encoding(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    label = match.group(1).decode("ascii", "replace").lower()
    label = _BROWSER_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _markup(data: bytes, limits: ParseLimits) -> tuple[str, list[str]]:
    """The decoded markup (by its declared charset when that fits, else detected) + warnings."""
    cap = MARKUP_FACTOR * limits.max_chars
    declared = _declared_encoding(data)
    if declared is not None and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE)):
        try:
            markup = data.decode(declared)
        except UnicodeDecodeError:
            pass  # the declaration is wrong: detect instead
        else:
            if len(markup) > cap:
                raise too_much_markup(len(markup), cap, limits)
            return markup, []
    return text_from_bytes(data, limits, max_chars=cap)


def parse_html(path: Path, limits: ParseLimits) -> ParsedDocument:
    """An .html/.htm file -> one page (number 1) holding its visible text."""
    markup, warnings = _markup(read_limited(path, limits), limits)
    try:
        text = html_to_text(markup)
    except (AssertionError, ValueError) as exc:  # html.parser is lenient; be safe anyway
        raise ParseRejected(f"The HTML file cannot be read ({exc}).") from exc
    if len(text) > limits.max_chars:
        raise too_many_chars(len(text), limits)
    if not text.strip():
        raise ParseRejected(NO_TEXT)
    return single_page(text, warnings)
