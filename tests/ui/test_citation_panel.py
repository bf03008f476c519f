"""The cited passage: exactly the verified quote is highlighted, in light and dark schemes;
an unverified citation highlights nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication

from app.desktop.facade import Citation, Passage
from ui import theme
from ui.citation_panel import CitationPanel, document_url
from ui.workers import WorkerPool

TEXT = "8.1 TERM. The term of this Agreement is five (5) years. Either party may renew."


def highlighted(panel: CitationPanel) -> list[int]:
    doc = panel.text.document()
    marked = []
    for i in range(len(TEXT)):
        cursor = QTextCursor(doc)
        cursor.setPosition(i + 1)
        if cursor.charFormat().hasProperty(QTextCharFormat.Property.BackgroundBrush):
            marked.append(i)
    return marked


def test_only_the_quote_is_highlighted_and_it_survives_a_scheme_switch(qtbot: Any) -> None:
    panel = CitationPanel(WorkerPool(), lambda ws: None)
    qtbot.addWidget(panel)
    start = TEXT.index("The term")
    end = TEXT.index(" Either")
    passage = Passage("Lease.pdf", "/d/Lease.pdf", 3, TEXT, start, end, True)
    panel.passage = passage
    panel.show_passage(passage)
    assert highlighted(panel) == list(range(start, end))
    assert panel.highlighted_text() == TEXT[start:end]
    app = QApplication.instance()
    try:
        theme.force_scheme(app, dark=True)
        qtbot.wait(50)
        assert highlighted(panel) == list(range(start, end))
    finally:
        theme.force_scheme(app, dark=False)


def test_an_unverified_citation_highlights_nothing(qtbot: Any) -> None:
    panel = CitationPanel(WorkerPool(), lambda ws: None)
    qtbot.addWidget(panel)
    passage = Passage("Lease.pdf", "/d/Lease.pdf", 3, TEXT, -1, -1, False, "No quote verified.")
    panel.show_passage(passage)
    assert highlighted(panel) == [] and panel.highlighted_text() == ""
    assert panel.note.text() == "No quote verified."


def test_pdfs_open_at_their_page_other_files_plainly() -> None:
    assert document_url("/d/Lease.pdf", 3).toString() == "file:///d/Lease.pdf#page=3"
    assert document_url("/d/notes.txt", 3).toString() == "file:///d/notes.txt"


def test_a_citation_on_a_page_read_by_ocr_says_so(qtbot: Any) -> None:
    pool = WorkerPool()
    panel = CitationPanel(pool, lambda ws: None)  # the passage look-up fails: only the label
    qtbot.addWidget(panel)
    cited = Citation(1, "fax.pdf", "/d/fax.pdf", 2, "apixaban 5 mg", 0, 13, "c1", True, True)
    for citation, where in ((cited, "Page 2"), (replace(cited, ocr=True), "Page 2, read by OCR")):
        panel.show_citation(None, citation)  # type: ignore[arg-type]
        assert panel.where.text() == where
        qtbot.waitUntil(lambda: not pool.busy(), timeout=5000)
