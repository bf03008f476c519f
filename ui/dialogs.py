"""Every question the window asks a person, in one place, so tests can answer them.

The views call a `Dialogs` object passed in by the composition root; tests pass a subclass
with scripted answers. All methods run on the GUI thread and block until answered.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

if TYPE_CHECKING:
    from app.desktop.facade import FrontierRequest


class Dialogs:
    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        value, ok = QInputDialog.getText(self.parent, title, label, QLineEdit.EchoMode.Normal, text)
        return value.strip() if ok and value.strip() else None

    def ask_password(self, title: str, label: str) -> str | None:
        value, ok = QInputDialog.getText(self.parent, title, label, QLineEdit.EchoMode.Password)
        return value if ok and value else None

    def confirm(self, title: str, text: str, action: str) -> bool:
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(text)
        go = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is go

    def open_files(self, title: str, suffixes: tuple[str, ...]) -> list[Path]:
        patterns = " ".join(f"*{s}" for s in suffixes)
        files, _ = QFileDialog.getOpenFileNames(
            self.parent, title, "", f"Documents ({patterns});;All files (*)"
        )
        return [Path(f) for f in files]

    def open_folder(self, title: str) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self.parent, title)
        return Path(folder) if folder else None

    def open_model_file(self, title: str) -> Path | None:
        file, _ = QFileDialog.getOpenFileName(
            self.parent, title, "", "GGUF models (*.gguf);;All files (*)"
        )
        return Path(file) if file else None

    def save_file(self, title: str, suggested: str, filters: str) -> Path | None:
        file, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, filters)
        return Path(file) if file else None

    def review_request(self, request: FrontierRequest) -> bool:
        """Show exactly what would be sent to the frontier model; True only if "Send" is pressed."""
        from ui.review_dialog import FrontierReviewDialog

        dialog = FrontierReviewDialog(request, self.parent)
        return dialog.exec() == FrontierReviewDialog.DialogCode.Accepted
