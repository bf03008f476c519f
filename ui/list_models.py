"""Qt item models over app records: workspaces, conversations, documents, installed models.

Each model holds plain app objects (read-only) and is refreshed with `set_items` on the GUI
thread. The record itself is available under `RECORD_ROLE`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QTableView

from app.desktop.facade import Conversation, DocumentRecord, ModelRecord, Workspace, display_name

T = TypeVar("T")
RECORD_ROLE = int(Qt.ItemDataRole.UserRole) + 1
AnyIndex = QModelIndex | QPersistentModelIndex

OUTCOME_WORDS = {
    "indexed": "Indexed",
    "indexed_with_warnings": "Indexed, with warnings",
    "unchanged": "Unchanged",
    "rejected": "Rejected",
    "needs_password": "Needs a password",
}


class _Rows(Generic[T]):
    """The records behind a Qt item model: one per row, replaced all at once on the GUI thread.
    Mixed into the Qt model classes below (first, so its rowCount wins)."""

    _items: list[T]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def set_items(self, items: Sequence[T]) -> None:
        self.beginResetModel()  # type: ignore[attr-defined]
        self._items = list(items)
        self.endResetModel()  # type: ignore[attr-defined]

    def items(self) -> list[T]:
        return list(self._items)

    def item(self, row: int) -> T | None:
        return self._items[row] if 0 <= row < len(self._items) else None


class RecordListModel(_Rows[T], QAbstractListModel):
    """A list of records shown by `text(record)`, with an optional tooltip."""

    def __init__(
        self,
        text: Callable[[T], str],
        tooltip: Callable[[T], str] | None = None,
        key: Callable[[T], str] | None = None,
    ) -> None:
        super().__init__()
        self._items: list[T] = []
        self._text = text
        self._tooltip = tooltip
        self._key = key or (lambda item: str(getattr(item, "id", item)))

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(item)
        if role == Qt.ItemDataRole.ToolTipRole and self._tooltip is not None:
            return self._tooltip(item)
        if role == RECORD_ROLE:
            return item
        return None

    def row_of(self, key: str) -> int:
        for row, item in enumerate(self._items):
            if self._key(item) == key:
                return row
        return -1


class RecordTableModel(_Rows[T], QAbstractTableModel):
    """Rows of records, one column per (header, text function)."""

    def __init__(
        self,
        columns: Sequence[tuple[str, Callable[[T], str]]],
        tooltip: Callable[[T], str] | None = None,
        colour: Callable[[T], QPalette.ColorRole | QColor | None] | None = None,
    ) -> None:
        super().__init__()
        self._columns = list(columns)
        self._items: list[T] = []
        self._tooltip = tooltip
        self._colour = colour

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section][0]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._columns[index.column()][1](item)
        if role == Qt.ItemDataRole.ToolTipRole and self._tooltip is not None:
            return self._tooltip(item)
        if role == Qt.ItemDataRole.ForegroundRole and self._colour is not None:
            colour = self._colour(item)
            return colour if isinstance(colour, QColor) else None
        if role == RECORD_ROLE:
            return item
        return None


# -- the concrete models ---------------------------------------------------------------------
def workspace_model() -> RecordListModel[Workspace]:
    return RecordListModel(
        text=lambda w: w.name,
        tooltip=lambda w: f"{w.name}\nCreated {w.created_at[:10]}\nStored in {w.folder}",
    )


def conversation_model() -> RecordListModel[Conversation]:
    return RecordListModel(
        text=lambda c: c.title,
        tooltip=lambda c: f"{c.title}\nLast message {friendly_time(c.updated_at)}",
    )


def document_model() -> RecordTableModel[DocumentRecord]:
    def details(d: DocumentRecord) -> str:
        if d.status == "needs_password":  # the index's reason names the command-line option
            return "Protected by a password: select it and press Password…"
        return d.reason or "; ".join(d.warnings)

    def colour(d: DocumentRecord) -> QColor | None:
        if d.status == "rejected":
            return QColor("#c0392b")
        if d.status == "needs_password":
            return QColor("#b9770e")
        return None

    def name(d: DocumentRecord) -> str:
        why = details(d)
        shown = display_name(d.name)  # controls and bidi overrides escaped: no spoofed names
        return f"{shown}\n{why}" if why else shown

    return RecordTableModel(
        [
            ("Document", name),
            ("Status", lambda d: OUTCOME_WORDS.get(d.status, d.status)),
            ("Pages", lambda d: str(d.pages) if d.pages else ""),
            ("Passages", lambda d: str(d.chunk_count) if d.chunk_count else ""),
        ],
        tooltip=lambda d: "\n".join(
            x for x in (display_name(d.name), display_name(d.path), details(d)) if x
        ),
        colour=colour,
    )


def model_model() -> RecordTableModel[ModelRecord]:
    return RecordTableModel(
        [
            ("Model", lambda m: m.id),
            ("Domain", lambda m: ", ".join(m.domains)),
            ("Size", lambda m: size_text(m.size_bytes)),
            ("Quantization", lambda m: m.quantization),
            ("Licence", lambda m: m.licence),
            ("Source", lambda m: {"embedded": "built in"}.get(m.source, m.source)),
        ],
        tooltip=lambda m: (
            f"{m.id} ({m.architecture}{', ' + m.parameters if m.parameters else ''})\n"
            f"context {m.context_length} tokens, chat format {m.chat_format}\n"
            f"sha256 {m.sha256}"
        ),
    )


def size_text(n: int) -> str:
    if n >= 10**9:
        return f"{n / 1e9:.2f} GB"
    if n >= 10**6:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e3:.0f} kB"


def friendly_time(iso: str) -> str:
    try:
        when = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    return when.strftime("%d %b %Y, %H:%M")


def record_table(model: RecordTableModel[Any], name: str, *, word_wrap: bool) -> QTableView:
    """A read-only table of records, whole rows selected, in the app's one style."""
    table = QTableView()
    table.setAccessibleName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(word_wrap)
    return table
