"""The Review view on its own, with a scripted runner in place of the model (fast): saving and
reopening a checklist, rows and progress as answers arrive, Cancel after the current answer,
export equal to the table, evidence clicks. The real window, model and documents are in
tests/ui/test_review_real.py."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.chat.answer import EvidenceQuote
from app.chat.prompting import NOT_FOUND_TEXT
from app.chat.types import ChatAnswer
from app.desktop.facade import CancelToken, ChecklistStore, ReviewPlan, ReviewRow, Workspace
from app.library.review import HEADER
from app.routing.router import Route
from tests.ui.window_helpers import ScriptedDialogs
from ui.review_view import ReviewView, table_cells
from ui.workers import WorkerPool


def answer(question: str, document: str, found: bool) -> ChatAnswer:
    quote = f"{document} is governed by the laws of Delaware."
    end = 10 + len(quote)
    shown = EvidenceQuote(1, document, f"/docs/{document}", 1, 3, quote, 10, end, "chunk-1", 0.8)
    evidence = [shown] if found else []
    return ChatAnswer(
        conversation_id="c", message_id="m", question=question,
        answer=quote if found else NOT_FOUND_TEXT, citations=[], sources=[],
        route=Route("smollm2", confidence=0.61 if found else None), device="CPU", stats=None,
        not_found=not found, cancelled=False, seconds=0.1, evidence=evidence,
        evidence_only=found,
    )  # fmt: skip


class Scripted:
    """A runner that answers from a script; with `gate`, each answer waits to be let through."""

    def __init__(self, documents: Sequence[str], gate: bool = False) -> None:
        self.documents = tuple(documents)
        self.gate = threading.Semaphore(0) if gate else None
        self.calls: list[tuple[list[str], bool]] = []

    def __call__(
        self, ws: Workspace, questions: Sequence[str], per_document: bool,
        cancel: CancelToken, finish: CancelToken,
    ) -> Iterator[ReviewPlan | ReviewRow]:  # fmt: skip
        self.calls.append((list(questions), per_document))
        docs = self.documents if per_document else ("",)
        yield ReviewPlan(len(questions) * len(docs), self.documents if per_document else ())
        for doc in docs:
            for i, q in enumerate(questions):
                if self.gate is not None:
                    while not self.gate.acquire(timeout=0.05):
                        if cancel.cancelled:
                            return
                yield ReviewRow(q, doc, answer(q, doc or "all.txt", found=i != 1))
                if finish.cancelled or cancel.cancelled:
                    return


@pytest.fixture
def make_view(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    made: list[tuple[ReviewView, WorkerPool]] = []

    def make(runner: Scripted, dialogs: ScriptedDialogs) -> ReviewView:
        pool = WorkerPool()
        view = ReviewView(pool, runner, lambda ws: ChecklistStore(ws.folder), dialogs)  # type: ignore[arg-type]
        qtbot.addWidget(view)
        view.show()
        view.set_workspace(Workspace("matter", "Matter", "2026-01-01", tmp_path))
        made.append((view, pool))
        return view

    yield make
    for _view, pool in made:
        pool.shutdown()


def test_a_saved_checklist_runs_row_by_row_and_exports_what_the_table_shows(
    make_view: Any, qtbot: Any, tmp_path: Path
) -> None:
    dialogs = ScriptedDialogs()
    runner = Scripted(["a.txt", "b.txt"])
    view = make_view(runner, dialogs)
    assert not view.run_button.isEnabled()  # the model is not loaded yet
    view.set_ready()
    assert not view.run_button.isEnabled()  # no question yet
    qtbot.keyClicks(view.editor, "Which law governs?")
    qtbot.keyClick(view.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(view.editor, "# a comment")
    qtbot.keyClick(view.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(view.editor, "What is the date of birth?")
    dialogs.texts.append("Due diligence")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert [view.saved.itemText(i) for i in range(view.saved.count())] == ["Due diligence"]
    view.editor.clear()
    view.saved.activated.emit(0)  # chosen from the list again
    assert view.questions() == ["Which law governs?", "What is the date of birth?"]

    added: list[ReviewRow] = []
    view.row_added.connect(added.append)
    with qtbot.waitSignal(view.review_finished, timeout=10_000):
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert runner.calls == [(["Which law governs?", "What is the date of birth?"], True)]
    assert len(added) == view.model.rowCount() == 4
    assert view.progress.value() == 4 and view.progress.maximum() == 4
    assert view.status.text() == "Done: 4 of 4 answered, 2 found in the documents."
    cells = table_cells(view.model)
    assert [c[1] for c in cells] == ["a.txt", "a.txt", "b.txt", "b.txt"]
    assert cells[1][2] == NOT_FOUND_TEXT and cells[1][5] == "not found" and cells[1][6] == ""
    assert cells[0][3] == "a.txt is governed by the laws of Delaware." and cells[0][4] == "line 3"

    target = tmp_path / "out" / "review"
    target.parent.mkdir()
    dialogs.save_targets.append(target)
    saved = view.export("csv")
    assert saved == target.with_name("review.csv")
    title, suggested = dialogs.asked[-1]
    assert title == "Export review" and Path(suggested).name.startswith("Due diligence review ")
    assert suggested.endswith(".csv")
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert rows[0][0].startswith("# Machine-made") and rows[1] == HEADER
    assert rows[2:] == cells
    dialogs.save_targets.append(tmp_path / "out" / "review.html")
    page = view.export("html")
    assert page is not None and page.suffix == ".html"
    html = page.read_text(encoding="utf-8")
    assert html.count("<tr><td>") == 4 and "Enclave review: Due diligence (Matter)" in html


def test_cancel_stops_after_the_current_answer_and_keeps_the_rows(
    make_view: Any, qtbot: Any
) -> None:
    runner = Scripted(["a.txt"], gate=True)
    view = make_view(runner, ScriptedDialogs())
    view.set_ready()
    view.editor.setPlainText("\n".join(f"Question {i}?" for i in range(6)))
    assert runner.gate is not None
    view.run()
    runner.gate.release()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
    assert view.status.text() == "1 of 6: answering question 2…"
    assert not view.export_button.isEnabled() and not view.run_button.isEnabled()
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert not view.cancel_button.isEnabled()
    with qtbot.waitSignal(view.review_finished, timeout=10_000):
        runner.gate.release()  # the answer under way is finished, then it stops
    assert view.model.rowCount() == 2
    assert view.status.text() == "Stopped: 2 of 6 answered, 1 found in the documents."
    assert view.export_button.isEnabled() and view.run_button.isEnabled()


def test_clicking_the_evidence_opens_its_citation(make_view: Any, qtbot: Any) -> None:
    view = make_view(Scripted(["a.txt"]), ScriptedDialogs())
    view.set_ready()
    view.editor.setPlainText("Which law governs?")
    with qtbot.waitSignal(view.review_finished, timeout=10_000):
        view.run()
    opened: list[Any] = []
    view.citation_clicked.connect(opened.append)
    for column in (0, 2):  # the question and the answer do not open anything
        rect = view.table.visualRect(view.model.index(0, column))
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == []
    rect = view.table.visualRect(view.model.index(0, 3))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(opened) == 1
    assert opened[0].quote == "a.txt is governed by the laws of Delaware." and opened[0].verified


def test_another_workspace_stops_the_review_and_clears_the_table(
    make_view: Any, qtbot: Any, tmp_path: Path
) -> None:
    runner = Scripted(["a.txt"], gate=True)
    view = make_view(runner, ScriptedDialogs())
    view.set_ready()
    view.editor.setPlainText("Q1?\nQ2?\nQ3?")
    messages: list[str] = []
    view.message.connect(messages.append)
    task = view.run()
    assert runner.gate is not None and task is not None
    runner.gate.release()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
    other = tmp_path / "other"
    other.mkdir()
    with qtbot.waitSignal(view.review_finished, timeout=10_000):
        view.set_workspace(Workspace("other", "Other", "2026-01-01", other))
    assert view.model.rowCount() == 0 and view.task is None
    assert messages == ["The review was stopped: another workspace was opened."]
    assert view.saved.count() == 0  # the other workspace has no saved checklist
