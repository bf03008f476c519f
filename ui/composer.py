"""The question box: Enter sends, Shift+Enter starts a new line. GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class Composer(QPlainTextEdit):
    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Question")
        self.setAccessibleDescription("Type a question; Enter sends it, Shift+Enter adds a line")
        self.setPlaceholderText(
            "Ask about this workspace's documents…  (Enter sends, Shift+Enter: new line)"
        )
        self.setTabChangesFocus(True)
        self.document().contentsChanged.connect(self.updateGeometry)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
            if not mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
                self.submit()
                return
        super().keyPressEvent(event)

    def submit(self) -> None:
        text = self.toPlainText().strip()
        if text:
            self.submitted.emit(text)

    def sizeHint(self) -> QSize:
        lines = max(2, min(8, self.document().blockCount()))
        height = self.fontMetrics().lineSpacing() * lines + 18
        return QSize(super().sizeHint().width(), height)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, self.fontMetrics().lineSpacing() * 2 + 18)
