"""The conversations of the current workspace: titles, search over past conversations, new chat.

Reads the history store on the GUI thread (small indexed SQLite queries).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.facade import Workspace
from ui.list_models import conversation_model

if TYPE_CHECKING:
    from app.library.history import HistoryStore


class ConversationPanel(QWidget):
    conversation_selected = Signal(str)
    new_chat_requested = Signal()

    def __init__(self, history: HistoryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self.workspace: Workspace | None = None
        self.model = conversation_model()
        self._quiet = False

        title = QLabel("Conversations")
        title.setAccessibleName("Conversations heading")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.new_button = QPushButton("New chat")
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self._new_chat)
        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(self.new_button)
        self.search = QLineEdit()
        self.search.setAccessibleName("Search conversations")
        self.search.setPlaceholderText("Search conversations…")
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.list = QListView()
        self.list.setAccessibleName("Conversations")
        self.list.setModel(self.model)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setWordWrap(False)  # one line each: long titles elide, whole in the tooltip
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.selectionModel().currentChanged.connect(
            lambda cur, _prev: self._chosen(cur.row())
        )
        self.empty = QLabel("No conversations yet.")
        self.empty.setAccessibleName("Conversations hint")
        self.empty.setEnabled(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)

    def set_workspace(self, workspace: Workspace | None) -> None:
        self.workspace = workspace
        self._quiet = True
        self.search.clear()
        self._quiet = False
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Reload titles (filtered by the search text); keep or set the selected conversation."""
        current = select or self.current_id()
        ws = self.workspace
        text = self.search.text().strip()
        if ws is None:
            items = []
        elif text:
            items = self._history.search(ws.id, text)
        else:
            items = self._history.conversations(ws.id)
        self._quiet = True
        self.model.set_items(items)
        row = self.model.row_of(current) if current else -1
        if row >= 0:
            self.list.selectionModel().setCurrentIndex(
                self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        self._quiet = False
        self.empty.setText(
            "No conversation matches." if text else "No conversations yet: ask a question."
        )
        self.empty.setVisible(not items)

    def current_id(self) -> str | None:
        conv = self.model.item(self.list.currentIndex().row())
        return conv.id if conv is not None else None

    def select(self, conversation_id: str) -> None:
        self.refresh(select=conversation_id)

    def clear_selection(self) -> None:
        self._quiet = True
        self.list.selectionModel().clearCurrentIndex()
        self.list.clearSelection()
        self._quiet = False

    def _chosen(self, row: int) -> None:
        if self._quiet:
            return
        conv = self.model.item(row)
        if conv is not None:
            self.conversation_selected.emit(conv.id)

    def _new_chat(self) -> None:
        self.clear_selection()
        self.new_chat_requested.emit()
