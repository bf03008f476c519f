"""The source of a citation: document, page, and the chunk with the verified quote highlighted.

"Open at page N" hands the document to the system viewer: `file:///path#page=N` for PDFs. The
page fragment is honoured by viewers that read it (browsers' PDF viewers, Acrobat, Preview via
some launchers); others open the document at its first page, and the panel says which page to go
to. A text file has no pages: its citation is shown at its line ("Line 12"), with the file's
full path, and the button opens the file itself. A quote that could not be verified is never
shown as a quote.

The passage is read on a worker thread (the index may need opening); all slots run on the GUI
thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from app.desktop.facade import (
    Citation,
    Passage,
    Workspace,
    citation_line,
    citation_passage,
    text_file,
)

if TYPE_CHECKING:
    from app.desktop.facade import WorkspaceIndexProvider
    from ui.workers import Task, WorkerPool

UrlOpener = Callable[[QUrl], bool]
INTRO = "Click a citation marker such as [1] in an answer to see the passage it comes from."


def document_url(path: str, page: int) -> QUrl:
    url = QUrl.fromLocalFile(path)
    if Path(path).suffix.lower() == ".pdf" and page > 0:
        url.setFragment(f"page={page}")
    return url


class _PassageView(QTextBrowser):
    def loadResource(self, type: int, name: QUrl | str) -> object:
        return None


class CitationPanel(QWidget):
    message = Signal(str)
    passage_shown = Signal(object)  # the Passage

    def __init__(
        self,
        pool: WorkerPool,
        index_for: WorkspaceIndexProvider,
        opener: UrlOpener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._index_for = index_for
        self._open_url: UrlOpener = opener or QDesktopServices.openUrl
        self._task: Task | None = None
        self.citation: Citation | None = None
        self.passage: Passage | None = None
        self.line: int | None = None  # for a text file: the line the quote starts on

        self.heading = QLabel("Sources")
        self.heading.setAccessibleName("Cited document")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.where = QLabel(INTRO)
        self.where.setAccessibleName("Citation location")
        self.where.setWordWrap(True)
        self.text = _PassageView()
        self.text.setAccessibleName("Cited passage")
        self.text.setOpenLinks(False)
        self.text.setOpenExternalLinks(False)
        self.note = QLabel("")
        self.note.setAccessibleName("Citation note")
        self.note.setWordWrap(True)
        self.open_button = QPushButton("Open document")
        self.open_button.setAccessibleName("Open document at the cited page")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_document)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.where)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)

    def clear_citation(self) -> None:
        self._task = None
        self.citation = None
        self.passage = None
        self.line = None
        self.heading.setText("Sources")
        self.where.setText(INTRO)
        self.text.clear()
        self.note.setText("")
        self.open_button.setText("Open document")
        self.open_button.setEnabled(False)

    def set_hint(self, text: str) -> None:
        if self.citation is None:
            self.where.setText(text)

    def show_citation(self, workspace: Workspace, citation: Citation) -> None:
        """Show `citation` (from an answer in `workspace`); the passage loads in the background."""
        self.citation = citation
        self.passage = None
        self.line = None
        self.heading.setText(f"[{citation.n}] {citation.document}")
        text = text_file(citation.path)
        self.where.setText(self._where(citation.page, None))
        self._set_text("Loading the passage…")
        self.note.setText("")
        self.open_button.setText("Open file" if text else f"Open at page {citation.page}")
        self.open_button.setEnabled(bool(citation.path))
        index_for = self._index_for

        def look_up() -> tuple[Passage, int | None]:  # worker thread
            passage = citation_passage(index_for, workspace, citation)
            return passage, citation_line(index_for, workspace, citation) if text else None

        task = self._pool.start("citation", look_up)
        self._task = task
        task.item.connect(lambda found: self._found(task, found))
        task.failed.connect(lambda msg: self._failed(task, msg))

    def _where(self, page: int, line: int | None) -> str:
        c = self.citation
        if c is None or not text_file(c.path):
            return f"Page {page}, read by OCR" if c is not None and c.ocr else f"Page {page}"
        at = f"Line {line}" if line is not None else "Text file"
        return f"{at} · the file is at {c.path}"

    def _found(self, task: Task, found: tuple[Passage, int | None]) -> None:  # GUI thread
        if task is self._task:
            self.line = found[1]
            self._show(task, found[0])

    def show_passage(self, passage: Passage) -> None:  # GUI thread
        """Show a passage now (what a finished citation look-up does)."""
        self._task = None
        self._show(None, passage)

    def _show(self, task: Task | None, passage: Passage) -> None:  # GUI thread
        if task is not self._task:
            return  # a newer citation was clicked meanwhile
        self.passage = passage
        self.where.setText(self._where(passage.page, self.line))
        self.where.setToolTip(passage.path)
        self._set_text(passage.text)
        if passage.verified and passage.quote_start >= 0:
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(passage.quote_start)
            cursor.setPosition(passage.quote_end, QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            background, foreground = self._highlight_colours()
            fmt.setBackground(background)
            fmt.setForeground(foreground)
            cursor.mergeCharFormat(fmt)
            cursor.setPosition(passage.quote_start)  # scroll there, without selecting
            self.text.setTextCursor(cursor)
            self.text.ensureCursorVisible()
            self.note.setText("The highlighted words are quoted verbatim from the document.")
        else:
            self.note.setText(passage.note or "No verified quote for this citation.")
        self.passage_shown.emit(passage)

    def _failed(self, task: Task, message: str) -> None:
        if task is self._task:
            self._set_text("")
            self.note.setText(message)
            self.message.emit(message)

    def _set_text(self, text: str) -> None:
        """Plain text in the default format (no highlight carried over from before)."""
        self.text.setTextCursor(QTextCursor(self.text.document()))
        self.text.setCurrentCharFormat(QTextCharFormat())
        self.text.document().setPlainText(text)

    def highlighted_text(self) -> str:
        """The words shown highlighted (empty when none): what a person sees as the quote."""
        p = self.passage
        if p is None or not p.verified or p.quote_start < 0:
            return ""
        return self.text.toPlainText()[p.quote_start : p.quote_end]

    def _highlight_colours(self) -> tuple[QColor, QColor]:
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        if dark:
            return QColor("#6b5a12"), QColor("#fff8dc")
        return QColor("#fff2a8"), QColor("#1d1d1f")

    def changeEvent(self, event: QEvent) -> None:
        """Light/dark switch: draw the passage again in the new colours (GUI thread)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.passage is not None:
            self._show(self._task, self.passage)

    def open_document(self) -> None:
        c = self.citation
        if c is None or not c.path:
            return
        if not Path(c.path).exists():
            self.message.emit(f"The document is no longer at {c.path}.")
            return
        url = document_url(c.path, c.page)
        if text_file(c.path):
            at = f" at line {self.line}" if self.line is not None else ""
            if self._open_url(url):
                self.message.emit(f"Opened {c.document}; the passage is{at or ' shown here'}.")
            else:
                self.message.emit(f"No program could open {c.document}. It is at {c.path}{at}.")
            return
        if self._open_url(url):
            return
        if url.hasFragment() and self._open_url(QUrl.fromLocalFile(c.path)):
            self.message.emit(f"Opened {c.document}: go to page {c.page}.")
            return
        self.message.emit(f"No program on this computer could open {c.document}.")
