"""Errors and notices in plain words, in a banner that floats over the top of the window's
content: showing or hiding it never moves or resizes anything (it is not in a layout).
Errors stay until dismissed; notices go after a few seconds. GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

INFO_SECONDS = 6
MAX_WIDTH = 760
MARGIN = 12


class MessageBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Messages")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.label = QLabel("")
        self.label.setAccessibleName("Message")
        self.label.setWordWrap(True)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        if parent is not None:
            parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.place()
        return super().eventFilter(watched, event)

    def place(self) -> None:
        """Float at the top centre of the parent, over its content."""
        parent = self.parentWidget()
        if parent is None:
            return
        width = max(200, min(MAX_WIDTH, parent.width() - 2 * MARGIN))
        height = self.heightForWidth(width) if self.hasHeightForWidth() else 0
        height = max(height, self.sizeHint().height())
        self.setGeometry((parent.width() - width) // 2, MARGIN, width, height)

    def show_error(self, text: str) -> None:
        self._show(text, "#fdecea", "#8a1c12", sticky=True)

    def show_info(self, text: str) -> None:
        self._show(text, "#e8f1fb", "#163e6b", sticky=False)

    def _show(self, text: str, background: str, foreground: str, *, sticky: bool) -> None:
        self.label.setText(text)
        self.setStyleSheet(
            f"MessageBar {{ background: {background}; border: 1px solid {foreground}40;"
            f" border-radius: 6px; }} QLabel {{ color: {foreground}; }}"
            f" QToolButton {{ color: {foreground}; border: none; }}"
        )
        self.place()
        self.show()
        self.raise_()
        self._timer.stop()
        if not sticky:
            self._timer.start(INFO_SECONDS * 1000)

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
