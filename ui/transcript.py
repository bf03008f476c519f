"""The conversation transcript: questions, answers with their evidence, clickable citations.

Every answer reads the same, live or re-opened from history (ui.answer_parts.AnswerParts):
"Enclave", then the evidence block (each quote verbatim, highlighted, with "[n] document,
line 12" or "page 3", clickable like a citation), then the answer text with its [n] markers (not
for an evidence-only answer: its quotes are not shown twice), then the notices, the sources,
the meta line and, after Regenerate, "‹ 1 of 2 ›" to see the earlier versions.

While an answer is written, the evidence is shown as soon as it is chosen, with a progress line
(elapsed seconds, then tokens/s). The model's draft is not shown while it is written: a sentence
that fails the fact check is never on screen (as in the terminal). The view follows new content
unless the person has scrolled up; then "Jump to latest" appears.

Every answer part starts in a fresh block that belongs to no list, so an answer that begins or
ends with a list ("1. ...", "- ...") never turns the lines after it into list items.

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

from PySide6.QtCore import QEvent, QObject, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextFrameFormat,
)
from PySide6.QtWidgets import QTextBrowser, QToolButton, QWidget

from app.desktop.facade import Citation, EvidenceQuote, text_file
from ui.answer_parts import AnswerParts, evidence_citation

_MARKER_RE = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD = QTextDocument.MarkdownFeature
MARKDOWN_FEATURES = _MD(_MD.MarkdownDialectGitHub.value | _MD.MarkdownNoHTML.value)
RENDER_INTERVAL_MS = 50
ANSWER_KEY = QTextFormat.Property.UserProperty + 1  # the answer a block belongs to


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
    citation_clicked = Signal(object)  # a Citation (an evidence quote's, too)
    link_refused = Signal(str)  # a URL that was not opened
    version_requested = Signal(str, int)  # an answer's key, -1 (earlier) or +1 (later)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)
        self.setReadOnly(True)
        self.setAccessibleName("Conversation")
        self.setAccessibleDescription("The questions asked and the answers, with citations")
        self.anchorClicked.connect(self._anchor_clicked)
        self._citations: dict[str, dict[int, Citation]] = {}
        self._evidence: dict[str, dict[int, EvidenceQuote]] = {}
        self._stream_start: int | None = None
        self._stream_key = ""
        self._stream_text = ""
        self._stream_status = ""
        self._stream_evidence: tuple[EvidenceQuote, ...] = ()
        self._follow = True  # keep the newest content in view (off once the person scrolls up)
        self._scrolling = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RENDER_INTERVAL_MS)
        self._timer.timeout.connect(self._render_stream)
        self.document().setDocumentMargin(14)
        self.jump_button = QToolButton(self)
        self.jump_button.setText("Jump to latest ↓")
        self.jump_button.setAccessibleName("Jump to latest")
        self.jump_button.setToolTip("Scroll to the newest part of the conversation")
        self.jump_button.clicked.connect(self.jump_to_latest)
        self.jump_button.hide()
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.verticalScrollBar().rangeChanged.connect(lambda *_: self._content_grew())
        self.installEventFilter(self)

    # -- resources and links --------------------------------------------------------------
    def loadResource(self, type: int, name: QUrl | str) -> Any:
        """Nothing is loaded: not remote images, not local files."""
        return None

    def _anchor_clicked(self, url: QUrl) -> None:
        target = url.toString()
        kind, key, num = ([*target.split(":"), "", ""])[:3]
        n = int(num) if num.lstrip("-").isdigit() else -1
        if kind == "cite":
            citation = self._citations.get(key, {}).get(n)
            if citation is not None:
                self.citation_clicked.emit(citation)
            return
        if kind == "evid":
            quote = self._evidence.get(key, {}).get(n)
            if quote is not None:
                self.citation_clicked.emit(evidence_citation(quote))
            return
        if kind == "ver":
            self.version_requested.emit(key, -1 if n < 0 else 1)
            return
        self.link_refused.emit(target)

    def citations(self, key: str) -> dict[int, Citation]:
        return dict(self._citations.get(key, {}))

    def evidence(self, key: str) -> dict[int, EvidenceQuote]:
        return dict(self._evidence.get(key, {}))

    # -- following the newest content -----------------------------------------------------
    @property
    def following(self) -> bool:
        return self._follow

    def _scrolled(self, value: int) -> None:
        if self._scrolling:
            return
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 4
        self._update_jump()

    def _content_grew(self) -> None:
        if self._follow:
            self._scroll_to_end()
        self._update_jump()

    def jump_to_latest(self) -> None:
        self._follow = True
        self._scroll_to_end()
        self._update_jump()

    def _update_jump(self) -> None:
        bar = self.verticalScrollBar()
        show = not self._follow and bar.value() < bar.maximum() - 4
        if show:
            self._place_jump()
            self.jump_button.raise_()
        self.jump_button.setVisible(show)

    def _place_jump(self) -> None:
        self.jump_button.adjustSize()
        vp = self.viewport().geometry()
        size = self.jump_button.sizeHint()
        self.jump_button.move(
            vp.x() + (vp.width() - size.width()) // 2, vp.y() + vp.height() - size.height() - 10
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self and event.type() == QEvent.Type.Resize:
            self._place_jump()
        return super().eventFilter(watched, event)

    # -- building the transcript ----------------------------------------------------------
    def clear_all(self) -> None:
        self._timer.stop()
        self._stream_start = None
        self._stream_evidence = ()
        self._citations.clear()
        self._evidence.clear()
        self.clear()
        self._follow = True
        self._update_jump()

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
            self._plain_block(cursor)
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
        self.jump_to_latest()  # a new question: show it, and follow its answer

    def begin_answer(self, key: str, status: str = "Searching your documents…") -> None:
        """Start the answer that the evidence and the progress line are shown in."""
        cursor = self._end()
        self._plain_block(cursor)
        self._stream_start = cursor.position()
        self._stream_key = key
        self._stream_text = ""
        self._stream_status = status
        self._stream_evidence = ()
        self._render_stream()

    def set_stream_status(self, status: str) -> None:
        """The progress line of the answer being written ("Writing the answer… 12 s")."""
        if status != self._stream_status:
            self._stream_status = status
            self._render_stream()

    def stream_status(self) -> str:
        return self._stream_status

    def show_evidence(self, evidence: Sequence[EvidenceQuote]) -> None:
        """Show the evidence as soon as it is chosen, before the model has written anything."""
        self._stream_evidence = tuple(evidence)
        self._evidence[self._stream_key] = {q.n: q for q in evidence}
        self._render_stream()

    def append_tokens(self, text: str) -> None:
        """Keep the streamed draft (it is not shown: it has not been checked yet)."""
        self._stream_text += text

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
        """Replace the answer being written by a final answer given in pieces."""
        self.finish_parts(
            AnswerParts(key, text, tuple(citations), notices=(notice,) if notice else (), meta=meta)
        )

    def finish_parts(self, parts: AnswerParts) -> None:
        """Replace the answer being written (evidence, progress) by the final answer."""
        self._timer.stop()
        if self._stream_start is None:
            cursor = self._end()
            self._plain_block(cursor)
            self._stream_start = cursor.position()
        cursor = self._stream_cursor()
        cursor.removeSelectedText()
        self._stream_start = None
        self._stream_evidence = ()
        self._evidence.pop("", None)
        self._write_answer(cursor, parts)
        self._content_grew()

    def add_answer(
        self, key: str, text: str, citations: Sequence[Citation], meta: str, notice: str = ""
    ) -> None:
        self.add_parts(
            AnswerParts(key, text, tuple(citations), notices=(notice,) if notice else (), meta=meta)
        )

    def add_parts(self, parts: AnswerParts) -> None:
        """Add a finished answer (one read back from history) at the end."""
        cursor = self._end()
        self._plain_block(cursor)
        self._write_answer(cursor, parts)

    def replace_parts(self, parts: AnswerParts, key: str | None = None) -> bool:
        """Draw `parts` in place of the answer shown under `key` (default: its own key), e.g.
        another version of it. False when no answer with that key is in the transcript."""
        span = self._answer_span(parts.key if key is None else key)
        if span is None:
            return False
        cursor = QTextCursor(self.document())
        cursor.setPosition(span[0])
        cursor.setPosition(span[1], QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._write_answer(cursor, parts, fresh=False)
        return True

    def add_notice(self, text: str) -> None:
        cursor = self._end()
        self._plain_block(cursor)
        self._muted(cursor, text)

    # -- internals ------------------------------------------------------------------------
    def _end(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _plain_block(self, cursor: QTextCursor) -> None:
        """Start a new block that is in no list, has no heading or quote level, and no
        leftover character format: what follows an answer's Markdown starts clean."""
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        self._unlist(cursor)

    def _unlist(self, cursor: QTextCursor) -> None:
        block = cursor.block()
        listed = block.textList()
        if listed is not None:
            listed.remove(block)
        cursor.setBlockFormat(QTextBlockFormat())
        cursor.setCharFormat(QTextCharFormat())

    def _stream_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._stream_start or 0)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def _render_stream(self) -> None:
        if self._stream_start is None:
            return
        cursor = self._stream_cursor()
        cursor.removeSelectedText()
        self._unlist(cursor)
        self._speaker(cursor, "Enclave")
        if self._stream_evidence:
            self._write_evidence(cursor, self._stream_key, self._stream_evidence)
            self._plain_block(cursor)
        cursor.insertText(self._stream_status, self._muted_format())
        self._content_grew()

    def _answer_span(self, key: str) -> tuple[int, int] | None:
        """Where the answer with `key` stands: from its first block to the end of its last."""
        doc = self.document()
        block = doc.begin()
        first = last = None
        while block.isValid():
            if block.blockFormat().property(ANSWER_KEY) == key:
                if first is None:
                    first = block.position()
                last = block.position() + block.length() - 1
            block = block.next()
        return None if first is None or last is None else (first, last)

    def _write_answer(self, cursor: QTextCursor, parts: AnswerParts, fresh: bool = True) -> None:
        key = parts.key
        start = cursor.position()
        self._citations[key] = {c.n: c for c in parts.citations}
        self._evidence[key] = {q.n: q for q in parts.evidence}
        self._unlist(cursor)
        self._speaker(cursor, "Enclave")
        if parts.evidence:
            self._write_evidence(cursor, key, parts.evidence)
        if parts.shows_text:
            if parts.evidence:
                self._plain_block(cursor)
            cursor.insertMarkdown(
                answer_markdown(parts.text, key, [c.n for c in parts.citations]) or "*(no answer)*",
                MARKDOWN_FEATURES,
            )
        for notice in parts.notices:
            self._plain_block(cursor)
            self._muted(cursor, notice)
        shown = {q.n for q in parts.evidence}
        listed = [c for c in parts.citations if c.n not in shown]  # evidence: shown above
        if listed:
            self._plain_block(cursor)
            self._write_sources(cursor, key, listed)
        if parts.meta:
            self._plain_block(cursor)
            self._muted(cursor, parts.meta, small=True)
        if parts.versions > 1:
            self._plain_block(cursor)
            self._write_versions(cursor, parts)
        self._mark(start, cursor.position(), key)

    def _mark(self, start: int, end: int, key: str) -> None:
        """Tag the answer's blocks with its key (for showing another version in place)."""
        block = self.document().findBlock(start)
        while block.isValid() and block.position() <= end:
            cursor = QTextCursor(block)
            fmt = block.blockFormat()
            fmt.setProperty(ANSWER_KEY, key)
            cursor.setBlockFormat(fmt)
            block = block.next()

    def _write_evidence(
        self, cursor: QTextCursor, key: str, evidence: Sequence[EvidenceQuote]
    ) -> None:
        """Each quote verbatim and highlighted, then "[n] document, line 12" as a link."""
        label = self._muted_format(small=True)
        label.setFontWeight(700)
        cursor.insertText("From your documents", label)
        background, foreground = self.highlight_colours()
        for q in evidence:
            self._plain_block(cursor)
            quote_block = QTextBlockFormat()
            quote_block.setLeftMargin(12)
            quote_block.setTopMargin(4)
            cursor.setBlockFormat(quote_block)
            mark = QTextCharFormat()
            mark.setBackground(background)
            mark.setForeground(foreground)
            cursor.insertText("\u201c" + q.shown + "\u201d", mark)
            self._plain_block(cursor)
            where = QTextBlockFormat()
            where.setLeftMargin(12)
            cursor.setBlockFormat(where)
            link = QTextCharFormat()
            link.setAnchor(True)
            link.setAnchorHref(f"evid:{key}:{q.n}")
            link.setForeground(self.palette().color(QPalette.ColorRole.Link))
            link.setFontUnderline(True)
            link.setFontPointSize(max(7.0, self.font().pointSizeF() * 0.9))
            cursor.insertText(f"[{q.n}] {q.document}, {q.where()}", link)
            cursor.setCharFormat(QTextCharFormat())

    def _write_sources(self, cursor: QTextCursor, key: str, citations: Sequence[Citation]) -> None:
        small = self._muted_format(small=True)
        head = QTextCharFormat(small)
        head.setFontWeight(700)
        head.setForeground(self.palette().color(QPalette.ColorRole.Text))
        cursor.insertText("Sources", head)
        for c in sorted(citations, key=lambda c: c.n):
            self._plain_block(cursor)
            link = QTextCharFormat(small)
            link.setAnchor(True)
            link.setAnchorHref(f"cite:{key}:{c.n}")
            link.setForeground(self.palette().color(QPalette.ColorRole.Link))
            link.setFontUnderline(True)
            cursor.insertText(f"[{c.n}]", link)
            plain = QTextCharFormat(small)
            plain.setForeground(self.palette().color(QPalette.ColorRole.Text))
            where = "" if text_file(c.path) else f", page {c.page}"
            where += ", read by OCR" if c.ocr and where else ""
            cursor.insertText(f"\u00a0{c.document}{where}", plain)
            if c.verified and c.quote:
                cursor.insertText(f" — “{' '.join(c.quote.split())}”", plain)
            else:
                cursor.insertText(" (no verified quote)", small)

    def _write_versions(self, cursor: QTextCursor, parts: AnswerParts) -> None:
        small = self._muted_format(small=True)

        def arrow(text: str, delta: int, enabled: bool) -> None:
            if not enabled:
                cursor.insertText(text, small)
                return
            link = QTextCharFormat(small)
            link.setAnchor(True)
            link.setAnchorHref(f"ver:{parts.key}:{delta}")
            link.setForeground(self.palette().color(QPalette.ColorRole.Link))
            cursor.insertText(text, link)

        arrow("‹ earlier", -1, parts.version > 1)
        cursor.insertText(f"   {parts.version} of {parts.versions}   ", small)
        arrow("later ›", 1, parts.version < parts.versions)

    def highlight_colours(self) -> tuple[QColor, QColor]:
        """The quote highlight (the citation panel's colours), for light or dark."""
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        if dark:
            return QColor("#6b5a12"), QColor("#fff8dc")
        return QColor("#fff2a8"), QColor("#1d1d1f")

    def _speaker(self, cursor: QTextCursor, name: str) -> None:
        fmt = QTextCharFormat()
        fmt.setFontWeight(700)
        fmt.setForeground(self.palette().color(QPalette.ColorRole.Text))
        cursor.insertText(name, fmt)
        self._plain_block(cursor)

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
        self._scrolling = True
        try:
            bar.setValue(bar.maximum())
        finally:
            self._scrolling = False
