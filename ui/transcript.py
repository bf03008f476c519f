"""The conversation transcript: questions, streamed Markdown answers, clickable citations.

Safety: answers are Markdown written by a model. They are rendered with raw HTML switched off,
images replaced by their alt text, and `loadResource` refusing everything, so no remote (or
local) resource is ever loaded. Links never open: citation markers [n] become internal
`cite:KEY:N` anchors handled here, and any other link is reported with `link_refused`.

All methods run on the GUI thread.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFrameFormat,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.desktop.facade import Citation

_MARKER_RE = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD = QTextDocument.MarkdownFeature
MARKDOWN_FEATURES = _MD(_MD.MarkdownDialectGitHub.value | _MD.MarkdownNoHTML.value)
RENDER_INTERVAL_MS = 50


def answer_markdown(text: str, key: str, cited: Sequence[int]) -> str:
    """The answer's Markdown with images dropped and [n] markers turned into cite: links."""
    text = _IMAGE_RE.sub(lambda m: m.group(1), text)

    def marker(match: re.Match[str]) -> str:
        parts = []
        for num in re.findall(r"\d+", match.group(1)):
            n = int(num)
            parts.append(f"[\\[{n}\\]](cite:{key}:{n})" if n in cited else f"\\[{n}\\]")
        return "".join(parts)

    return _MARKER_RE.sub(marker, text)


def blend(a: QColor, b: QColor, amount: float) -> QColor:
    return QColor(
        round(a.red() + (b.red() - a.red()) * amount),
        round(a.green() + (b.green() - a.green()) * amount),
        round(a.blue() + (b.blue() - a.blue()) * amount),
    )


class TranscriptView(QTextBrowser):
    citation_clicked = Signal(object)  # a Citation
    link_refused = Signal(str)  # a URL that was not opened

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)
        self.setReadOnly(True)
        self.setAccessibleName("Conversation")
        self.setAccessibleDescription("The questions asked and the answers, with citations")
        self.anchorClicked.connect(self._anchor_clicked)
        self._citations: dict[str, dict[int, Citation]] = {}
        self._stream_start: int | None = None
        self._stream_key = ""
        self._stream_text = ""
        self._stream_status = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RENDER_INTERVAL_MS)
        self._timer.timeout.connect(self._render_stream)
        self.document().setDocumentMargin(14)

    # -- resources and links --------------------------------------------------------------
    def loadResource(self, type: int, name: QUrl | str) -> Any:
        """Nothing is loaded: not remote images, not local files."""
        return None

    def _anchor_clicked(self, url: QUrl) -> None:
        target = url.toString()
        if target.startswith("cite:"):
            _, key, num = ([*target.split(":"), "", ""])[:3]
            citation = self._citations.get(key, {}).get(int(num) if num.isdigit() else -1)
            if citation is not None:
                self.citation_clicked.emit(citation)
            return
        self.link_refused.emit(target)

    def citations(self, key: str) -> dict[int, Citation]:
        return dict(self._citations.get(key, {}))

    # -- building the transcript ----------------------------------------------------------
    def clear_all(self) -> None:
        self._timer.stop()
        self._stream_start = None
        self._citations.clear()
        self.clear()

    def show_hint(self, title: str, text: str) -> None:
        self.clear_all()
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        self.insertHtml(
            f"<div style='margin-top:40px'><h2 align='center'>{html.escape(title)}</h2>"
            f"<p align='center' style='color:{muted}'>{html.escape(text)}</p></div>"
        )

    def add_question(self, text: str) -> None:
        cursor = self._end()
        if not self.document().isEmpty():
            cursor.insertBlock()
        pal = self.palette()
        frame = QTextFrameFormat()
        frame.setBackground(
            blend(pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Highlight), 0.14)
        )
        frame.setPadding(10)
        frame.setTopMargin(10)
        frame.setBottomMargin(6)
        frame.setBorder(0)
        cursor.insertFrame(frame)
        label = QTextCharFormat()
        label.setFontWeight(700)
        label.setForeground(pal.color(QPalette.ColorRole.Text))
        cursor.insertText("You\n", label)
        cursor.insertText(text, QTextCharFormat())
        self._scroll_to_end()

    def begin_answer(self, key: str, status: str = "Searching your documents…") -> None:
        """Start the answer that tokens will stream into."""
        cursor = self._end()
        cursor.insertBlock()
        self._stream_start = cursor.position()
        self._stream_key = key
        self._stream_text = ""
        self._stream_status = status
        self._render_stream()

    def set_stream_status(self, status: str) -> None:
        self._stream_status = status
        if not self._stream_text:
            self._render_stream()

    def append_tokens(self, text: str) -> None:
        """Add streamed text; the Markdown is re-rendered at most every 50 ms."""
        self._stream_text += text
        if not self._timer.isActive():
            self._timer.start()

    @property
    def streaming(self) -> bool:
        return self._stream_start is not None

    def streamed_text(self) -> str:
        return self._stream_text

    def finish_answer(
        self,
        key: str,
        text: str,
        citations: Sequence[Citation],
        meta: str,
        notice: str = "",
    ) -> None:
        """Replace the streamed text with the final answer, its sources and its meta line."""
        self._timer.stop()
        if self._stream_start is None:
            cursor = self._end()
            cursor.insertBlock()
            self._stream_start = cursor.position()
        cursor = self._stream_cursor()
        cursor.removeSelectedText()
        self._stream_start = None
        self._write_answer(cursor, key, text, citations, meta, notice)
        self._scroll_to_end()

    def add_answer(
        self, key: str, text: str, citations: Sequence[Citation], meta: str, notice: str = ""
    ) -> None:
        cursor = self._end()
        cursor.insertBlock()
        self._write_answer(cursor, key, text, citations, meta, notice)

    def add_notice(self, text: str) -> None:
        cursor = self._end()
        cursor.insertBlock()
        self._muted(cursor, text)

    # -- internals ------------------------------------------------------------------------
    def _end(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _stream_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._stream_start or 0)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def _render_stream(self) -> None:
        if self._stream_start is None:
            return
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        cursor = self._stream_cursor()
        cursor.removeSelectedText()
        self._speaker(cursor, "Enclave")
        if self._stream_text:
            cursor.insertMarkdown(answer_markdown(self._stream_text, "", ()), MARKDOWN_FEATURES)
            cursor.insertText(" ▍", self._muted_format())
        else:
            cursor.insertText(self._stream_status, self._muted_format())
        if at_end:
            self._scroll_to_end()

    def _write_answer(
        self,
        cursor: QTextCursor,
        key: str,
        text: str,
        citations: Sequence[Citation],
        meta: str,
        notice: str,
    ) -> None:
        self._citations[key] = {c.n: c for c in citations}
        self._speaker(cursor, "Enclave")
        cursor.insertMarkdown(
            answer_markdown(text, key, [c.n for c in citations]) or "*(no answer)*",
            MARKDOWN_FEATURES,
        )
        if notice:
            cursor.insertBlock()
            self._muted(cursor, notice)
        if citations:
            cursor.insertBlock()
            cursor.insertHtml(self._sources_html(key, citations))
        if meta:
            cursor.insertBlock()
            self._muted(cursor, meta, small=True)

    def _sources_html(self, key: str, citations: Sequence[Citation]) -> str:
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        rows = []
        for c in sorted(citations, key=lambda c: c.n):
            where = f"{html.escape(c.document)}, page {c.page}"
            quote = (
                f" — “{html.escape(c.quote)}”"
                if c.verified and c.quote
                else f" <span style='color:{muted}'>(no verified quote)</span>"
            )
            rows.append(f"<a href='cite:{key}:{c.n}'>[{c.n}]</a>&nbsp;{where}{quote}")
        return f"<div style='font-size:small'><b>Sources</b><br>{'<br>'.join(rows)}</div>"

    def _speaker(self, cursor: QTextCursor, name: str) -> None:
        fmt = QTextCharFormat()
        fmt.setFontWeight(700)
        fmt.setForeground(self.palette().color(QPalette.ColorRole.Text))
        cursor.insertText(name, fmt)
        cursor.insertBlock()
        cursor.setCharFormat(QTextCharFormat())

    def _muted_format(self, small: bool = False) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        if small:
            fmt.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.85))
        return fmt

    def _muted(self, cursor: QTextCursor, text: str, small: bool = False) -> None:
        cursor.insertText(text, self._muted_format(small))

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
