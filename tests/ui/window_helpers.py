"""Helpers shared by the window tests: scripted dialogs, closing a window like the app does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication

REAL_MODULES = ("models/engine.py", "models/catalog.py", "rag/index.py", "rag/extract.py")
REPO = Path(__file__).resolve().parents[2]


def real_services_missing() -> str | None:
    missing = [m for m in REAL_MODULES if not (REPO / m).exists()]
    return f"not written yet: {', '.join(missing)}" if missing else None


class ScriptedDialogs:
    """Answers the window's questions from queues the test fills; records what was asked."""

    def __init__(self) -> None:
        self.parent: Any = None
        self.texts: list[str | None] = []
        self.passwords: list[str | None] = []
        self.confirms: list[bool] = []
        self.files: list[list[Path]] = []
        self.folders: list[Path | None] = []
        self.model_files: list[Path | None] = []
        self.save_targets: list[Path | None] = []
        self.reviews: list[bool] = []  # answers to "send this to the frontier model?"
        self.reviewed: list[Any] = []  # the OutgoingRequests shown
        self.asked: list[tuple[str, str]] = []

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        self.asked.append((title, label))
        return self.texts.pop(0) if self.texts else None

    def ask_password(self, title: str, label: str) -> str | None:
        self.asked.append((title, label))
        return self.passwords.pop(0) if self.passwords else None

    def confirm(self, title: str, text: str, action: str) -> bool:
        self.asked.append((title, text))
        return self.confirms.pop(0) if self.confirms else False

    def open_files(self, title: str, suffixes: tuple[str, ...]) -> list[Path]:
        self.asked.append((title, " ".join(suffixes)))
        return self.files.pop(0) if self.files else []

    def open_folder(self, title: str) -> Path | None:
        return self.folders.pop(0) if self.folders else None

    def open_model_file(self, title: str) -> Path | None:
        return self.model_files.pop(0) if self.model_files else None

    def save_file(self, title: str, suggested: str, filters: str) -> Path | None:
        self.asked.append((title, suggested))
        return self.save_targets.pop(0) if self.save_targets else None

    def review_request(self, request: Any) -> bool:
        self.reviewed.append(request)
        return self.reviews.pop(0) if self.reviews else False


def close_window(window: Any) -> None:
    """Shut a window down as the app does on quit: cancel and wait for its threads."""
    window.shutdown()
    window.close()
    window.enclave.close()
    QCoreApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, 0)  # deliver deleteLater of finished threads


def click_anchor(qtbot: Any, view: Any, href: str) -> None:
    """Click, with the mouse, the first link to `href` in a QTextBrowser."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QTextCursor

    doc = view.document()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.charFormat().anchorHref() == href:
                cursor = QTextCursor(doc)
                cursor.setPosition(frag.position() + min(1, frag.length() - 1))
                view.setTextCursor(cursor)
                view.ensureCursorVisible()
                rect = view.cursorRect(cursor)
                pos = QPoint(rect.center().x(), rect.center().y())
                qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
                return
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href} in the transcript")
