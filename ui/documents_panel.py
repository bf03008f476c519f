"""The documents of the current workspace: add (dialog, or drag-and-drop anywhere on the window),
each file's outcome with its reason, password for protected PDFs, remove, re-index changed files.

Ingestion runs on a worker thread (`app.library.ingest.ingest_paths`); progress arrives as queued
signals. Listing and removing documents also run off the GUI thread (they may open the index).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from app.desktop.facade import (
    CancelToken,
    DocumentRecord,
    FileOutcome,
    FileRemoved,
    IngestProgress,
    IngestSummary,
    Workspace,
    display_name,
    ingest_paths,
    supported_suffixes,
)
from ui.buttons import action_button
from ui.folder_sync import FolderSyncControl
from ui.list_models import OUTCOME_WORDS, document_model, record_table
from ui.workers import Task, WorkerPool

if TYPE_CHECKING:
    from app.desktop.facade import ParseLimits, WorkspaceIndexProvider
    from ui.dialogs import Dialogs

LimitsProvider = Callable[[], "ParseLimits"]


def local_paths(urls: Sequence[QUrl]) -> list[Path]:
    paths = []
    for url in urls:
        if url.isLocalFile():
            paths.append(Path(url.toLocalFile()))
    return paths


def summary_text(summary: IngestSummary) -> str:
    counts = ", ".join(
        f"{n} {OUTCOME_WORDS.get(k, k).lower()}" for k, n in summary.counts.items() if n
    )
    head = "Stopped" if summary.cancelled else "Done"
    if not summary.total:
        return f"{head}: no document that Enclave can read was found there."
    return (
        f"{head}: {summary.total} file{'s' if summary.total != 1 else ''} ({counts or 'none'}); "
        f"{summary.pages} pages, {summary.chunks} passages in {summary.seconds:.1f} s."
    )


class DocumentsPanel(QWidget):
    message = Signal(str)
    documents_changed = Signal()  # the table was refreshed
    file_done = Signal(object)  # a FileOutcome, as each file finishes
    ingest_finished = Signal(object)  # the IngestSummary (or None when it failed)

    def __init__(
        self,
        pool: WorkerPool,
        index_for: WorkspaceIndexProvider,
        limits: LimitsProvider,
        dialogs: Dialogs,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._index_for = index_for
        self._limits = limits
        self._dialogs = dialogs
        self.workspace: Workspace | None = None
        self.ingest_task: Task | None = None
        self._ingest_workspace: Workspace | None = None
        self._list_task: Task | None = None
        self.model = document_model()
        self.sync = FolderSyncControl(pool, index_for, limits, dialogs)
        self.sync.changed.connect(self._on_sync_change)
        self.sync.message.connect(self.message)
        self._build()
        self._update_buttons()

    def _build(self) -> None:
        self.add_files_button = action_button(
            "Add files…", "Add files", "Add documents to this workspace", self.choose_files
        )
        self.add_folder_button = action_button(
            "Add folder…", "Add folder", "Add every document in a folder", self.choose_folder
        )
        self.reindex_button = action_button(
            "Re-index changed", "Re-index changed files",
            "Index again the documents whose files have changed", self.reindex_changed,
        )  # fmt: skip
        self.password_button = action_button(
            "Password…", "Give a password", "Open a password-protected PDF", self.give_password
        )
        self.remove_button = action_button(
            "Remove", "Remove document", "Remove the selected documents from this workspace",
            self.remove_selected,
        )  # fmt: skip
        row1 = QHBoxLayout()
        for b in (self.add_files_button, self.add_folder_button, self.reindex_button):
            row1.addWidget(b)
        row1.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Indexing progress")
        self.progress.setTextVisible(True)
        self.progress_label = QLabel("")
        self.progress_label.setAccessibleName("Indexing status")
        self.progress_label.setWordWrap(True)
        self.cancel_button = action_button(
            "Cancel", "Cancel indexing", "Stop adding documents", self.cancel_ingest
        )
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        box = QVBoxLayout(self.progress_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(progress_row)
        box.addWidget(self.progress_label)
        self.progress_box.setVisible(False)

        self.table = record_table(self.model, "Documents", word_wrap=True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.summary = QLabel("")
        self.summary.setAccessibleName("Last indexing result")
        self.summary.setWordWrap(True)
        self.hint = QLabel("Drop files or folders here to add them.")
        self.hint.setAccessibleName("Documents hint")
        self.hint.setEnabled(False)
        row2 = QHBoxLayout()
        row2.addWidget(self.password_button)
        row2.addWidget(self.remove_button)
        row2.addStretch(1)
        row2.addWidget(self.hint)

        layout = QVBoxLayout(self)
        layout.addLayout(row1)
        layout.addWidget(self.sync)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.table, 1)
        layout.addLayout(row2)
        layout.addWidget(self.summary)

    # -- state ----------------------------------------------------------------------------
    def selected(self) -> list[DocumentRecord]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [d for d in (self.model.item(r) for r in rows) if d is not None]

    def _update_buttons(self) -> None:
        has_ws = self.workspace is not None
        ingesting = self.ingest_task is not None
        chosen = self.selected()
        for b in (self.add_files_button, self.add_folder_button):
            b.setEnabled(has_ws and not ingesting)
        self.reindex_button.setEnabled(has_ws and not ingesting and self.model.rowCount() > 0)
        self.remove_button.setEnabled(has_ws and not ingesting and bool(chosen))
        self.password_button.setEnabled(
            has_ws and not ingesting and any(d.status == "needs_password" for d in chosen)
        )

    def set_workspace(self, workspace: Workspace | None) -> None:
        self.workspace = workspace
        self.sync.set_workspace(workspace)
        self.model.set_items([])
        self.summary.setText("")
        self.refresh()

    def refresh(self) -> None:
        """Reload the workspace's documents (on a worker: the index may need opening)."""
        ws = self.workspace
        self._update_buttons()
        if ws is None:
            return
        index_for = self._index_for
        task = self._pool.start("documents", lambda: index_for(ws).documents())
        self._list_task = task

        def show(docs: list[DocumentRecord]) -> None:
            if task is self._list_task and ws == self.workspace:
                self.model.set_items(sorted(docs, key=lambda d: d.name.lower()))
                self._update_buttons()
                self.documents_changed.emit()

        task.item.connect(show)
        task.failed.connect(self.message)

    # -- adding ---------------------------------------------------------------------------
    def choose_files(self) -> None:
        files = self._dialogs.open_files("Add documents", supported_suffixes())
        if files:
            self.add_paths(files)

    def choose_folder(self) -> None:
        folder = self._dialogs.open_folder("Add a folder of documents")
        if folder is not None:
            self.add_paths([folder])

    def add_paths(self, paths: Sequence[Path], password: str | None = None) -> Task | None:
        """Add files and folders to the current workspace (the UI's own action)."""
        ws = self.workspace
        if ws is None:
            self.message.emit("Choose or create a workspace first.")
            return None
        if self.ingest_task is not None:
            self.message.emit("Documents are still being added; wait for them or press Cancel.")
            return None
        index_for, limits, items = self._index_for, self._limits, list(paths)
        cancel = CancelToken()

        def work() -> object:
            return ingest_paths(
                index_for(ws), items, limits=limits(), password=password, cancel=cancel
            )

        task = self._pool.start("ingest", work, cancel=cancel)
        self.ingest_task = task
        self._ingest_workspace = ws
        self.progress.setRange(0, 0)  # busy until the first file
        self.progress_label.setText("Opening the workspace's index…")
        self.progress_box.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.summary.setText("")
        task.item.connect(self._on_ingest_event)
        task.failed.connect(self._on_ingest_failed)
        task.finished.connect(self._on_ingest_finished)
        self._update_buttons()
        return task

    def cancel_ingest(self) -> None:
        if self.ingest_task is not None:
            self.ingest_task.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Stopping after the current step…")

    def _on_ingest_event(self, event: object) -> None:  # GUI thread
        if isinstance(event, IngestProgress):
            self.progress.setRange(0, max(1, event.total))
            self.progress.setValue(event.done)
            self.progress.setFormat(f"{event.done} of {event.total} files")
            rate = f" · {event.pages_per_second:.1f} pages/s" if event.pages_done else ""
            self.progress_label.setText(
                f"Adding file {event.done + 1} of {event.total}: "
                f"{display_name(event.current.name)}{rate}"
            )
        elif isinstance(event, FileOutcome):
            self._show_outcome(event)
            self.file_done.emit(event)
        elif isinstance(event, IngestSummary):
            self.progress.setValue(self.progress.maximum())
            self.summary.setText(summary_text(event))
            self.ingest_finished.emit(event)

    def _show_outcome(self, outcome: FileOutcome) -> None:
        if self._ingest_workspace == self.workspace:
            self._put_record(outcome)

    def _put_record(self, outcome: FileOutcome) -> None:
        rep = outcome.report
        items = self.model.items()
        existing = next((i for i, d in enumerate(items) if d.id == rep.document_id), None)
        if rep.outcome == "unchanged" and existing is not None:
            return
        status = "indexed" if rep.outcome == "unchanged" else rep.outcome
        record = DocumentRecord(
            id=rep.document_id, name=rep.name, path=rep.path, sha256="", status=status,
            chunk_count=rep.chunk_count, pages=rep.pages, reason=rep.reason,
            warnings=list(rep.warnings), ingested_at="",
        )  # fmt: skip
        if existing is None:
            items.append(record)
        else:
            items[existing] = replace(record, sha256=items[existing].sha256)
        self.model.set_items(items)

    def _on_sync_change(self, event: object) -> None:  # GUI thread: the folder sync's changes
        if isinstance(event, FileOutcome):
            self._put_record(event)
        elif isinstance(event, FileRemoved):
            self.model.set_items([d for d in self.model.items() if d.id != event.document_id])
        self.file_done.emit(event)

    def _on_ingest_failed(self, message: str) -> None:  # GUI thread
        task = self.ingest_task
        if task is not None and task.cancel_requested:
            self.summary.setText("Stopped. The files finished before you pressed Cancel are kept.")
        else:
            self.summary.setText(f"Adding documents failed: {message}")
            self.message.emit(message)
        self.ingest_finished.emit(None)

    def _on_ingest_finished(self) -> None:  # GUI thread
        self.ingest_task = None
        self._ingest_workspace = None
        self.progress_box.setVisible(False)
        self.refresh()

    # -- other actions --------------------------------------------------------------------
    def give_password(self) -> None:
        locked = [d for d in self.selected() if d.status == "needs_password"]
        if not locked:
            return
        names = ", ".join(d.name for d in locked)
        password = self._dialogs.ask_password(
            "Password-protected document", f"Password to open {names}:"
        )
        if password:
            self.add_paths([Path(d.path) for d in locked], password=password)

    def reindex_changed(self) -> None:
        docs = self.model.items()
        present = [Path(d.path) for d in docs if Path(d.path).exists()]
        missing = len(docs) - len(present)
        if missing:
            self.message.emit(
                f"{missing} document file(s) are no longer where they were added from; "
                "they keep their last indexed version."
            )
        if present:
            self.add_paths(present)

    def remove_selected(self) -> None:
        ws, docs = self.workspace, self.selected()
        if ws is None or not docs:
            return
        what = docs[0].name if len(docs) == 1 else f"{len(docs)} documents"
        if not self._dialogs.confirm(
            "Remove documents",
            f"Remove {what} from the workspace '{ws.name}'?\n\n"
            "Its passages are deleted from Enclave's index. The file itself is not touched.",
            "Remove",
        ):
            return
        index_for, ids = self._index_for, [d.id for d in docs]

        def work() -> int:
            index = index_for(ws)
            return sum(1 for doc_id in ids if index.remove(doc_id))

        task = self._pool.start("remove-documents", work)
        task.item.connect(lambda n: self.message.emit(f"Removed {n} document(s) from '{ws.name}'."))
        task.failed.connect(self.message)
        task.finished.connect(self.refresh)
