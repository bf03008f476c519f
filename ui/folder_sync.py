"""The "Keep this folder in sync" toggle of the documents view: while it is on, a folder the
person chose is kept in sync with the current workspace (files added, changed, deleted or
renamed there are added, re-indexed or removed) by `app.desktop.facade.sync_folder` on a worker
thread. Turning it off, changing workspace or closing the window stops it (between files).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from app.desktop.facade import (
    CancelToken,
    FileOutcome,
    FileRemoved,
    IngestProgress,
    IngestSummary,
    Workspace,
    display_name,
    sync_folder,
)
from ui.workers import Task, WorkerPool

if TYPE_CHECKING:
    from app.desktop.facade import ParseLimits, WorkspaceIndexProvider
    from ui.dialogs import Dialogs


class FolderSyncControl(QWidget):
    """The toggle and a line saying what it is doing. `changed` carries each FileOutcome or
    FileRemoved (GUI thread), so the documents table can follow."""

    changed = Signal(object)
    message = Signal(str)

    def __init__(
        self,
        pool: WorkerPool,
        index_for: WorkspaceIndexProvider,
        limits: Callable[[], ParseLimits],
        dialogs: Dialogs,
        parent: QWidget | None = None,
        interval_s: float = 2.0,
    ) -> None:
        super().__init__(parent)
        self._pool, self._index_for, self._limits = pool, index_for, limits
        self._dialogs, self.interval_s = dialogs, interval_s
        self.workspace: Workspace | None = None
        self.folder: Path | None = None
        self.task: Task | None = None
        self.toggle = QCheckBox("Keep a folder in sync…")
        self.toggle.setAccessibleName("Keep this folder in sync")
        self.toggle.setToolTip(
            "Watch a folder: files added, changed, deleted or renamed there follow in this "
            "workspace"
        )
        self.toggle.toggled.connect(self._toggled)
        self.status = QLabel("")
        self.status.setAccessibleName("Folder sync status")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.status, 1)
        self.toggle.setEnabled(False)

    def set_workspace(self, workspace: Workspace | None) -> None:
        if workspace != self.workspace:
            self.stop()
        self.workspace = workspace
        self.toggle.setEnabled(workspace is not None)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Stopping after the current file…")
        self._set_checked(False)

    def _toggled(self, on: bool) -> None:  # GUI thread
        if not on:
            self.stop()
            return
        folder = self._dialogs.open_folder("Keep a folder in sync with this workspace")
        if folder is None or self.workspace is None or self.task is not None:
            self._set_checked(False)
            return
        self.start(folder)

    def start(self, folder: Path) -> Task:
        ws, index_for, limits = self.workspace, self._index_for, self._limits
        every = self.interval_s
        assert ws is not None
        cancel = CancelToken()

        def work() -> object:
            index = index_for(ws)
            return sync_folder(index, folder, limits=limits(), cancel=cancel, interval_s=every)

        task = self._pool.start("folder-sync", work, cancel=cancel)
        self.task, self.folder = task, folder
        self._set_checked(True)
        self.status.setText(f"Reading {display_name(folder.name)}…")
        task.item.connect(self._on_event)
        task.failed.connect(self.message)
        task.finished.connect(self._on_finished)
        return task

    def _on_event(self, event: object) -> None:  # GUI thread
        name = display_name(self.folder.name) if self.folder else ""
        if isinstance(event, IngestProgress) and event.total:
            self.status.setText(f"{name}: {event.done} of {event.total} files…")
        elif isinstance(event, IngestSummary):
            self.status.setText(f"In sync with {name}.")
        elif isinstance(event, FileOutcome | FileRemoved):
            self.changed.emit(event)
            if isinstance(event, FileRemoved):
                self.status.setText(f"In sync with {name} (removed {display_name(event.name)}).")

    def _on_finished(self) -> None:  # GUI thread
        self.task = None
        self.status.setText("")
        self._set_checked(False)

    def _set_checked(self, on: bool) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(on)
        self.toggle.blockSignals(False)
