"""The Review view: a checklist of questions asked of the workspace (of every document, or of
the whole workspace), answered row by row into the review table, with progress, Cancel and
export to CSV or HTML (the same table the CLI's `enclave ask --questions` writes).

A checklist is pasted or loaded from a file (one question per line, '#' lines left out) and
can be saved under a name in the workspace (app.library.review.ChecklistStore), to run again.
The answers come from `app.desktop.facade.run_review` on a worker thread, on one model load;
rows arrive as queued signals and every slot here runs on the GUI thread. Cancel stops after
the answer being written (the rows done stay). Clicking a row's evidence (or where it stands)
opens the passage in the Sources panel, as a chat citation does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.facade import (
    CancelToken,
    ChecklistStore,
    ReviewPlan,
    ReviewRow,
    Workspace,
    display_name,
    parse_questions,
    read_questions,
    write_table,
)
from app.errors import EnclaveError
from app.library.review import HEADER
from ui.answer_parts import evidence_citation
from ui.buttons import action_button
from ui.chat_panel import documents_folder, export_name
from ui.list_models import RecordTableModel, record_table
from ui.workers import Task, WorkerPool

if TYPE_CHECKING:
    from ui.dialogs import Dialogs

__all__ = ["ReviewTableModel", "ReviewView", "table_cells"]

ReviewRunner = Callable[
    [Workspace, Sequence[str], bool, CancelToken, CancelToken], Iterator[ReviewPlan | ReviewRow]
]
StoreProvider = Callable[[Workspace], ChecklistStore]

EVIDENCE, WHERE = 3, 4  # the columns a click opens in the Sources panel
UNNAMED = "Review"
PLACEHOLDER = (
    "One question per line, for example:\n"
    "Which state's law governs the agreement?\n"
    "How much notice is needed to terminate for convenience?"
)


class ReviewTableModel(RecordTableModel[ReviewRow]):
    """The review table: exactly the cells the exported table holds (ReviewRow.cells), rows
    appended one by one as answers arrive (GUI thread)."""

    def __init__(self) -> None:
        columns = [(h, _cell(i)) for i, h in enumerate(HEADER)]
        super().__init__(columns, tooltip=_tooltip, colour=_colour)

    def append(self, row: ReviewRow) -> None:
        n = len(self._items)
        self.beginInsertRows(QModelIndex(), n, n)
        self._items.append(row)
        self.endInsertRows()


def _cell(column: int) -> Callable[[ReviewRow], str]:
    if column == 1:  # a document's name: controls and bidi overrides escaped
        return lambda row: display_name(row.cells()[1])
    return lambda row: row.cells()[column]


def _tooltip(row: ReviewRow) -> str:
    question, document, answer, quote, where, *_ = row.cells()
    lines = [f"Q: {question}", f"Document: {display_name(document)}" if document else "", answer]
    if quote:
        lines += [f"“{quote}” ({where})", "Click the evidence to see the passage in Sources."]
    return "\n".join(line for line in lines if line)


def _colour(row: ReviewRow) -> QColor | None:
    if row.answer.not_found:
        return QColor("#7f8c8d")
    return None


class ReviewView(QWidget):
    message = Signal(str)  # a readable error or notice for the message bar
    citation_clicked = Signal(object)  # a Citation: a row's evidence, for the Sources panel
    row_added = Signal(object)  # a ReviewRow, as each answer arrives
    review_finished = Signal(int)  # the number of rows, once a run has ended (done or stopped)

    def __init__(
        self,
        pool: WorkerPool,
        runner: ReviewRunner,
        store_for: StoreProvider,
        dialogs: Dialogs,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._runner = runner
        self._store_for = store_for
        self._dialogs = dialogs
        self.workspace: Workspace | None = None
        self.task: Task | None = None
        self._finish: CancelToken | None = None
        self._run_workspace: Workspace | None = None
        self.total = 0
        self.checklist_name = ""
        self._ready = False
        self._unavailable = ""
        self.model = ReviewTableModel()
        self._build()
        self._update_buttons()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.saved = QComboBox()
        self.saved.setAccessibleName("Saved checklists")
        self.saved.setToolTip("The checklists saved in this workspace")
        self.saved.setMinimumContentsLength(6)
        self.saved.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.saved.setPlaceholderText("No saved checklist")
        self.saved.activated.connect(lambda i: self.open_checklist(self.saved.itemText(i)))
        self.load_button = action_button(
            "Load file…", "Load checklist file", "Read a text file with one question per line",
            self.load_file,
        )  # fmt: skip
        self.save_button = action_button(
            "Save…", "Save checklist", "Save these questions under a name in this workspace",
            self.save_checklist,
        )  # fmt: skip
        self.delete_button = action_button(
            "Delete", "Delete checklist", "Delete the chosen saved checklist",
            self.delete_checklist,
        )  # fmt: skip
        top = QHBoxLayout()
        top.addWidget(self.saved, 1)
        for b in (self.load_button, self.save_button, self.delete_button):
            top.addWidget(b)

        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("Checklist questions")
        self.editor.setPlaceholderText(PLACEHOLDER)
        self.editor.setTabChangesFocus(True)
        self.editor.setMaximumHeight(120)
        self.editor.textChanged.connect(self._update_buttons)

        self.every_document = QRadioButton("Every document")
        self.every_document.setAccessibleName("Ask every document")
        self.every_document.setToolTip("Ask each question of each document: one row per pair")
        self.whole_workspace = QRadioButton("Whole workspace")
        self.whole_workspace.setAccessibleName("Ask the whole workspace")
        self.whole_workspace.setToolTip("Ask each question once, of all the documents together")
        self.every_document.setChecked(True)
        scope = QButtonGroup(self)
        scope.addButton(self.every_document)
        scope.addButton(self.whole_workspace)
        self._scope = scope
        self.run_button = action_button(
            "Run", "Run checklist", "Answer every question of the checklist", self.run
        )
        self.cancel_button = action_button(
            "Cancel", "Cancel review", "Stop after the answer being written", self.cancel
        )
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setAccessibleName("Export review")
        self.export_button.setToolTip("Save the review table")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("As CSV…", lambda: self.export("csv"))
        menu.addAction("As HTML…", lambda: self.export("html"))
        self.export_button.setMenu(menu)
        scope_row = QHBoxLayout()
        scope_row.addWidget(QLabel("Ask"))
        scope_row.addWidget(self.every_document)
        scope_row.addWidget(self.whole_workspace)
        scope_row.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Review progress")
        self.progress.setFormat("%v of %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setAccessibleName("Review status")
        self.status.setWordWrap(True)
        progress_row = QHBoxLayout()  # narrow enough for the chat column's least width
        progress_row.addWidget(self.progress, 1)
        for w in (self.run_button, self.cancel_button, self.export_button):
            progress_row.addWidget(w)

        self.table = record_table(self.model, "Review table", word_wrap=True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        for col in (0, 2, EVIDENCE):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 110)
        for col in (WHERE, 5, 6):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.clicked.connect(self._clicked)
        self.table.activated.connect(self._clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.editor)
        layout.addLayout(scope_row)
        layout.addLayout(progress_row)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)

    # -- state ----------------------------------------------------------------------------
    def questions(self) -> list[str]:
        return parse_questions(self.editor.toPlainText())

    def rows(self) -> list[ReviewRow]:
        return self.model.items()

    @property
    def running(self) -> bool:
        return self.task is not None

    def _update_buttons(self) -> None:
        has_ws, running = self.workspace is not None, self.running
        has_questions = bool(self.questions())
        self.run_button.setEnabled(
            has_ws and self._ready and not running and has_questions and not self._unavailable
        )
        self.cancel_button.setEnabled(running and not self._finishing)
        self.export_button.setEnabled(has_ws and not running and self.model.rowCount() > 0)
        for w in (self.saved, self.load_button):
            w.setEnabled(has_ws and not running)
        self.save_button.setEnabled(has_ws and has_questions)
        self.delete_button.setEnabled(has_ws and not running and self.saved.currentIndex() >= 0)
        self.editor.setReadOnly(running)
        for b in (self.every_document, self.whole_workspace):
            b.setEnabled(not running)
        if not running and not self.model.rowCount():
            self.status.setText(self._idle_text())

    @property
    def _finishing(self) -> bool:
        return self._finish is not None and self._finish.cancelled

    def _idle_text(self) -> str:
        if self.workspace is None:
            return "Choose or create a workspace on the left to start."
        if self._unavailable:
            return self._unavailable
        if not self._ready:
            return "Loading the model…"
        return "Paste or load a checklist, then press Run."

    def set_ready(self) -> None:
        """The model is loaded: a checklist can run."""
        self._ready = True
        self._update_buttons()

    def set_unavailable(self, reason: str) -> None:
        self._unavailable = reason
        self._update_buttons()

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Another workspace: its saved checklists; a review under way in the old one stops."""
        if self.task is not None and workspace != self.workspace:
            self.task.cancel()
            if self._finish is not None:
                self._finish.cancel()
            self.message.emit("The review was stopped: another workspace was opened.")
        self.workspace = workspace
        self.model.set_items([])
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.refresh_checklists()

    # -- checklists -----------------------------------------------------------------------
    def _store(self) -> ChecklistStore | None:
        return None if self.workspace is None else self._store_for(self.workspace)

    def refresh_checklists(self, select: str = "") -> None:
        store = self._store()
        names: list[str] = []
        if store is not None:
            try:
                names = store.names()
            except EnclaveError as exc:
                self.message.emit(str(exc))
        self.saved.clear()
        self.saved.addItems(names)
        self.saved.setCurrentIndex(names.index(select) if select in names else -1)
        self._update_buttons()

    def open_checklist(self, name: str) -> None:
        store = self._store()
        if store is None or not name:
            return
        try:
            questions = store.load(name)
        except EnclaveError as exc:
            self.message.emit(str(exc))
            return
        self.checklist_name = name
        self.editor.setPlainText("\n".join(questions))

    def load_file(self) -> None:
        files = self._dialogs.open_files("Load a checklist", (".txt", ".md"))
        if not files:
            return
        path = Path(files[0])
        try:
            questions = read_questions(path)
        except EnclaveError as exc:
            self.message.emit(str(exc))
            return
        self.checklist_name = path.stem
        self.saved.setCurrentIndex(-1)
        self.editor.setPlainText("\n".join(questions))
        self._update_buttons()

    def save_checklist(self) -> str | None:
        store, questions = self._store(), self.questions()
        if store is None or not questions:
            return None
        name = self._dialogs.ask_text(
            "Save checklist", "Name of the checklist:", self.checklist_name
        )
        if not name:
            return None
        try:
            if store.exists(name) and not self._dialogs.confirm(
                "Replace checklist",
                f"A checklist called {name!r} is already saved here. Replace it?",
                "Replace",
            ):
                return None
            saved = store.save(name, questions)
        except EnclaveError as exc:
            self.message.emit(str(exc))
            return None
        self.checklist_name = saved
        self.refresh_checklists(select=saved)
        n = len(questions)
        self.message.emit(
            f"Saved the checklist {saved!r} ({n} question{'s' if n != 1 else ''}) in this "
            "workspace."
        )
        return saved

    def delete_checklist(self) -> None:
        store, name = self._store(), self.saved.currentText()
        if store is None or not name:
            return
        if not self._dialogs.confirm(
            "Delete checklist", f"Delete the saved checklist {name!r}?", "Delete"
        ):
            return
        try:
            store.delete(name)
        except EnclaveError as exc:
            self.message.emit(str(exc))
            return
        self.refresh_checklists()
        self.message.emit(f"Deleted the checklist {name!r}.")

    # -- running --------------------------------------------------------------------------
    def run(self) -> Task | None:
        ws, questions = self.workspace, self.questions()
        if ws is None or not questions or self.running or not self._ready:
            return None
        per_document = self.every_document.isChecked()
        cancel, finish = CancelToken(), CancelToken()
        runner = self._runner
        self.model.set_items([])
        self.total = 0
        self.progress.setRange(0, 0)  # busy until the plan arrives
        self.status.setText("Finding the documents…")
        task = self._pool.start(
            "review", lambda: runner(ws, questions, per_document, cancel, finish), cancel=cancel
        )
        self.task, self._finish, self._run_workspace = task, finish, ws
        task.item.connect(lambda event: self._arrived(task, event))
        task.failed.connect(lambda text: self._failed(task, text))
        task.finished.connect(lambda: self._ended(task))
        self._update_buttons()
        return task

    def cancel(self) -> None:
        """Stop after the answer being written; the rows done stay."""
        if self._finish is None or self.task is None:
            return
        self._finish.cancel()
        self.status.setText("Stopping after the answer being written…")
        self._update_buttons()

    def _current(self, task: Task) -> bool:
        return task is self.task and self._run_workspace == self.workspace

    def _arrived(self, task: Task, event: object) -> None:
        if not self._current(task):
            return
        if isinstance(event, ReviewPlan):
            self.total = event.total
            self.progress.setRange(0, max(1, event.total))
            self.progress.setValue(0)
        elif isinstance(event, ReviewRow):
            self.model.append(event)
            self.progress.setValue(self.model.rowCount())
            self.row_added.emit(event)
        else:
            return
        if not self._finishing:
            self.status.setText(self._progress_text())

    def _progress_text(self) -> str:
        done = self.model.rowCount()
        if done >= self.total:
            return f"{done} of {self.total}"
        return f"{done} of {self.total}: answering question {done + 1}…"

    def _failed(self, task: Task, text: str) -> None:
        if self._current(task) and not task.cancel_requested:
            self.message.emit(text)

    def _ended(self, task: Task) -> None:
        if task is not self.task:
            return
        current = self._run_workspace == self.workspace
        stopped = self._finishing or task.cancel_requested
        self.task, self._finish, self._run_workspace = None, None, None
        done = self.model.rowCount() if current else 0
        if current:
            self.progress.setRange(0, max(1, self.total))
            self.progress.setValue(done)
            found = sum(not r.answer.not_found for r in self.rows())
            head = "Stopped" if stopped and done < self.total else "Done"
            self.status.setText(
                f"{head}: {done} of {self.total} answered, {found} found in the documents."
            )
        self._update_buttons()
        self.review_finished.emit(done)

    # -- evidence and export --------------------------------------------------------------
    def _clicked(self, index: QModelIndex) -> None:
        row = self.model.item(index.row())
        if row is None or index.column() not in (EVIDENCE, WHERE) or not row.answer.evidence:
            return
        self.citation_clicked.emit(evidence_citation(row.answer.evidence[0]))

    def export(self, fmt: str) -> Path | None:
        ws, rows = self.workspace, self.rows()
        if ws is None or not rows or self.running:
            return None
        suffix, filters = (".csv", "CSV (*.csv)") if fmt == "csv" else (".html", "HTML (*.html)")
        name = self.checklist_name or UNNAMED
        suggested = documents_folder() / export_name(f"{name} review", date.today(), suffix)
        target = self._dialogs.save_file("Export review", str(suggested), filters)
        if target is None:
            return None
        if target.suffix.lower() != suffix:
            target = target.with_name(target.name + suffix)
        title = f"Enclave review: {name} ({ws.name})"
        text = write_table(rows, "csv" if fmt == "csv" else "html", title)
        try:
            target.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            self.message.emit(f"The review could not be saved to {target}: {exc.strerror}.")
            return None
        self.message.emit(f"Saved {len(rows)} answers to {target}.")
        return target


def table_cells(model: ReviewTableModel) -> list[list[str]]:
    """What the table shows, cell by cell (for tests and screenshots)."""
    cells: list[list[str]] = []
    for r in range(model.rowCount()):
        cells.append([str(model.data(model.index(r, c))) for c in range(model.columnCount())])
    return cells
