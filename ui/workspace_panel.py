"""The workspaces (a matter, a patient, a project): list, create, rename, delete.

Works on the GUI thread: the registry reads and writes small JSON files. Deleting asks for a
confirmation that names what will be deleted; the index is closed and removed by the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListView, QPushButton, QVBoxLayout, QWidget

from app.desktop.facade import Workspace, WorkspaceError
from ui.list_models import workspace_model

if TYPE_CHECKING:
    from app.library.workspaces import WorkspaceRegistry
    from ui.dialogs import Dialogs

DEFAULT_WORKSPACE = "My documents"


class WorkspacePanel(QWidget):
    workspace_selected = Signal(object)  # a Workspace, or None when there is none
    message = Signal(str)

    def __init__(
        self,
        registry: WorkspaceRegistry,
        delete: Callable[[str], Workspace],
        conversation_count: Callable[[Workspace], int],
        dialogs: Dialogs,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._registry = registry
        self._delete = delete
        self._conversation_count = conversation_count
        self._dialogs = dialogs
        self.current: Workspace | None = None
        self.preferred: str | None = None  # the workspace to open first (the last one used)
        self.model = workspace_model()

        title = QLabel("Workspaces")
        title.setAccessibleName("Workspaces heading")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.list = QListView()
        self.list.setAccessibleName("Workspaces")
        self.list.setModel(self.model)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.selectionModel().currentChanged.connect(
            lambda cur, _prev: self._chosen(cur.row())
        )
        self.new_button = QPushButton("New")
        self.new_button.setAccessibleName("New workspace")
        self.new_button.clicked.connect(self.create_workspace)
        self.rename_button = QPushButton("Rename")
        self.rename_button.setAccessibleName("Rename workspace")
        self.rename_button.clicked.connect(self.rename_workspace)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setAccessibleName("Delete workspace")
        self.delete_button.clicked.connect(self.delete_workspace)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def load(self, select: str | None = None) -> None:
        """Read the workspaces; on first run create one, so a question can be asked at once."""
        workspaces = self._registry.list()
        if not workspaces:
            workspaces = [self._registry.create(DEFAULT_WORKSPACE)]
        self.model.set_items(workspaces)
        wanted = select or (self.current.id if self.current else self.preferred)
        row = self.model.row_of(wanted) if wanted else -1
        self.select_row(row if row >= 0 else 0)

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.list.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self._chosen(row)

    def select(self, workspace_id: str) -> None:
        row = self.model.row_of(workspace_id)
        if row >= 0:
            self.select_row(row)

    def _chosen(self, row: int) -> None:
        ws = self.model.item(row)
        if ws is None or (self.current is not None and ws == self.current):
            return
        self.current = ws
        self.rename_button.setEnabled(True)
        self.delete_button.setEnabled(True)
        self.workspace_selected.emit(ws)

    def create_workspace(self) -> Workspace | None:
        name = self._dialogs.ask_text("New workspace", "Name of the matter, patient or project:")
        if not name:
            return None
        try:
            ws = self._registry.create(name)
        except (WorkspaceError, OSError) as exc:
            self.message.emit(str(exc))
            return None
        self.load(select=ws.id)
        return ws

    def rename_workspace(self) -> None:
        ws = self.current
        if ws is None:
            return
        name = self._dialogs.ask_text("Rename workspace", "New name:", ws.name)
        if not name or name == ws.name:
            return
        try:
            renamed = self._registry.rename(ws.id, name)
        except (WorkspaceError, OSError) as exc:
            self.message.emit(str(exc))
            return
        self.current = renamed
        self.load(select=renamed.id)

    def delete_workspace(self) -> bool:
        ws = self.current
        if ws is None:
            return False
        n = self._conversation_count(ws)
        text = (
            f"Delete the workspace '{ws.name}'?\n\n"
            f"This deletes, from this computer, its document index and its {n} "
            f"conversation{'s' if n != 1 else ''}. Your original files are not touched.\n\n"
            "This cannot be undone."
        )
        if not self._dialogs.confirm("Delete workspace", text, f"Delete '{ws.name}'"):
            return False
        try:
            self._delete(ws.id)
        except (WorkspaceError, OSError) as exc:
            self.message.emit(f"The workspace could not be deleted: {exc}")
            return False
        self.current = None
        self.message.emit(f"Deleted the workspace '{ws.name}'.")
        self.load()
        return True
