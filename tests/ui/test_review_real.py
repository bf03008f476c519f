"""The Review view in the real window: real SmolLM2 through llama.cpp, the real embedder in the
desktop's worker process, real chroma and SQLite in the test's ENCLAVE_HOME, and two small
agreements written here (different governing laws and notice periods).

A checklist is saved, chosen again from the list and run over every document; a longer one is
cancelled mid-run; the rows' evidence is verbatim in the documents, a click on it opens the
passage in the Sources panel, and the exported CSV holds exactly the table's rows.

With ENCLAVE_SCREENSHOTS=DIR the test also saves the Review view at 1440x900 to
DIR/review-checklist.png (docs/screenshots/review-checklist.png was made this way).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, Qt

from app.chat.prompting import NOT_FOUND_TEXT
from app.library.review import HEADER, ChecklistStore
from tests.ui.window_helpers import ScriptedDialogs, real_services_missing
from ui.review_view import table_cells

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(real_services_missing() is not None, reason=str(real_services_missing())),
]

LONG = 900_000  # ms: generous, this 2-core machine is shared
NORTHWIND = """MASTER SERVICES AGREEMENT

This Master Services Agreement is made on March 1, 2024 between Northwind Traders LLC ("Client") \
and Contoso Consulting Inc. ("Provider").

1. Services. Provider shall deliver the consulting services described in each statement of work.

2. Term. This Agreement begins on March 1, 2024 and continues for two (2) years.

3. Termination for Convenience. Either party may terminate this Agreement for convenience upon \
sixty (60) days' written notice to the other party.

4. Governing Law. This Agreement shall be governed by the laws of the State of Delaware.

5. Fees. Client shall pay each invoice within thirty (30) days of receipt.
"""
FABRIKAM = """SUPPLY AGREEMENT

This Supply Agreement is made on June 15, 2023 between Fabrikam Foods Inc. ("Buyer") and \
Tailspin Farms Co. ("Supplier").

1. Supply. Supplier shall deliver the products listed in Schedule A to Buyer's warehouse.

2. Term. This Agreement begins on June 15, 2023 and continues for three (3) years.

3. Termination for Convenience. Either party may terminate this Agreement for convenience upon \
ninety (90) days' written notice to the other party.

4. Governing Law. This Agreement shall be governed by the laws of the State of New York.

5. Payment. Buyer shall pay each invoice within forty-five (45) days of receipt.
"""
LAW = "Which law governs the agreement?"
NOTICE = "How much notice is needed to terminate for convenience?"
CAP = "What is the cap on liability?"  # neither agreement has one
CHECKLIST = [LAW, NOTICE, CAP]
LONGER = [
    "Who are the parties to the agreement?",
    "When does the agreement begin?",
    "How long does the agreement last?",
    "Within how many days must an invoice be paid?",
    LAW,
    NOTICE,
]


def click(qtbot: Any, widget: Any) -> None:
    assert widget.isEnabled(), f"{widget.accessibleName()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_cell(qtbot: Any, view: Any, row: int, column: int) -> None:
    view.scrollTo(view.model().index(row, column))
    rect = view.visualRect(view.model().index(row, column))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def save_screenshot(window: Any, path: Path) -> None:
    """The Review view at 1440x900, its first evidence open in the Sources panel."""
    window.resize(1440, 900)
    window.message_bar.hide()  # "Saved … to /tmp/…" from the export above
    for _ in range(20):
        QCoreApplication.processEvents()
    window.review.table.resizeRowsToContents()
    QCoreApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(path)), f"could not write {path}"


@pytest.fixture(autouse=True)
def _one_thread_short_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine is shared by many (2 cores): llama.cpp's threads wait on each other by
    spinning, which starves everyone, so one thread; and answers capped at 128 tokens (the
    evidence, chosen before the model runs, is what these checks read). Real settings, read
    by the window and by its worker process alike."""
    monkeypatch.setenv("ENCLAVE_N_THREADS", "1")
    monkeypatch.setenv("ENCLAVE_MAX_ANSWER_TOKENS", "128")


def test_a_saved_checklist_runs_over_every_document_in_the_window(
    make_window: Any, dialogs: ScriptedDialogs, qtbot: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "matter"
    folder.mkdir()
    texts = {"northwind-services.txt": NORTHWIND, "fabrikam-supply.txt": FABRIKAM}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")

    window = make_window(desktop=True)  # as `enclave gui` builds it: the index in the worker
    review = window.review
    dialogs.texts.append("Two agreements")
    click(qtbot, window.workspaces.new_button)
    ws = window.workspace
    assert ws is not None
    dialogs.files.append([folder / name for name in texts])
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=LONG) as ingest:
        click(qtbot, window.documents.add_files_button)
    assert ingest.args[0].counts == {"indexed": 2}
    qtbot.waitUntil(lambda: window.warm is not None, timeout=LONG)

    window.center.setCurrentWidget(review)
    assert window.center.tabText(window.center.currentIndex()) == "Review"

    # Save a 3-question checklist under a name; it is in the workspace and can be chosen again.
    review.editor.setPlainText("# due diligence\n" + "\n".join(CHECKLIST) + "\n")
    dialogs.texts.append("Due diligence")
    click(qtbot, review.save_button)
    assert ChecklistStore(ws.folder).load("Due diligence") == CHECKLIST
    review.editor.setPlainText("\n".join(LONGER))

    # A longer checklist, cancelled while its first answer is written: that answer is
    # finished and kept, nothing after it is asked, and nothing crashes.
    assert review.every_document.isChecked()
    click(qtbot, review.run_button)
    qtbot.waitUntil(lambda: review.progress.maximum() == 2 * len(LONGER), timeout=LONG)
    shown = review.model.rowCount()
    with qtbot.waitSignal(review.review_finished, timeout=LONG):
        click(qtbot, review.cancel_button)
        assert review.status.text() == "Stopping after the answer being written…"
    assert max(1, shown) <= review.model.rowCount() <= shown + 1 < 2 * len(LONGER)
    assert review.rows()[0].question == LONGER[0] and not review.rows()[0].answer.cancelled
    assert review.status.text().startswith(f"Stopped: {review.model.rowCount()} of 12 answered")
    assert window.pool.running("review") == []

    # The saved checklist, chosen from the list, run over every document: 6 rows.
    review.saved.activated.emit(review.saved.findText("Due diligence"))
    assert review.questions() == CHECKLIST and review.checklist_name == "Due diligence"
    with qtbot.waitSignal(review.review_finished, timeout=LONG):
        click(qtbot, review.run_button)
    rows = review.rows()
    assert len(rows) == 6 and review.status.text().startswith("Done: 6 of 6 answered")
    assert review.progress.value() == review.progress.maximum() == 6
    assert sorted((r.question, r.document) for r in rows) == sorted(
        (q, d) for q in CHECKLIST for d in texts
    )
    cells = table_cells(review.model)
    for row, cell in zip(rows, cells, strict=True):
        text = texts[row.document]
        assert not row.answer.cancelled
        for quote in row.answer.evidence:  # the documents' own words, where they stand
            assert quote.quote in text and text[quote.start : quote.end] == quote.quote
            assert quote.document == row.document
        if row.answer.evidence:
            first = row.answer.evidence[0]
            assert cell[3] == " ".join(first.quote.split())
            assert cell[4] == f"line {text[: first.start].count(chr(10)) + 1}"
        if row.answer.not_found:
            assert cell[2] == NOT_FOUND_TEXT and cell[5] == "not found" and cell[6] == ""
    by = {(r.question, r.document): r for r in rows}
    law = {d: by[(LAW, d)].answer for d in texts}
    assert "Delaware" in law["northwind-services.txt"].evidence[0].quote
    assert "New York" in law["fabrikam-supply.txt"].evidence[0].quote
    for d, days in (("northwind-services.txt", "sixty (60)"), ("fabrikam-supply.txt", "ninety")):
        assert any(days in q.quote for q in by[(NOTICE, d)].answer.evidence), d
        assert "not found" not in cells[rows.index(by[(NOTICE, d)])][5]
    for d in texts:
        assert by[(CAP, d)].answer.not_found  # in neither document
    assert window.enclave.history.conversations(ws.id) == []  # the table holds the answers

    # A click on a row's evidence opens the passage in the Sources panel, like a chat citation.
    first = next(i for i, r in enumerate(rows) if r.answer.evidence)
    window.citations.passage = None
    click_cell(qtbot, review.table, first, 3)
    qtbot.waitUntil(lambda: window.citations.passage is not None, timeout=LONG)
    assert window.tabs.currentWidget() is window.citations
    passage = window.citations.passage
    quote = rows[first].answer.evidence[0].quote
    assert passage.verified and passage.text[passage.quote_start : passage.quote_end] == quote

    # Export to CSV: the machine-made line, the header, then exactly the table's rows.
    dialogs.save_targets.append(tmp_path / "exported")
    target = review.export("csv")
    assert target == tmp_path / "exported.csv"
    title, suggested = dialogs.asked[-1]
    assert title == "Export review" and Path(suggested).name.startswith("Due diligence review ")
    written = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert written[0][0].startswith("# Machine-made") and written[1] == HEADER
    assert written[2:] == cells

    out = os.environ.get("ENCLAVE_SCREENSHOTS")
    if out:
        click_cell(qtbot, review.table, by_index(rows, NOTICE, "northwind-services.txt"), 3)
        qtbot.waitUntil(lambda: window.citations.passage is not None, timeout=LONG)
        save_screenshot(window, Path(out) / "review-checklist.png")


def by_index(rows: list[Any], question: str, document: str) -> int:
    return next(i for i, r in enumerate(rows) if (r.question, r.document) == (question, document))
