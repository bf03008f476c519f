"""The status bar: the active model and device, model-loading progress, and the privacy
indicator (read from the app's egress guard and audit ledger, never a constant). GUI thread."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from app.desktop.facade import PrivacyStatus

_OK = "#1e8449"
_WARN = "#c0392b"


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Status bar")
        self.model_label = QLabel("Starting…")
        self.model_label.setAccessibleName("Active model")
        self.loading = QProgressBar()
        self.loading.setAccessibleName("Model loading progress")
        self.loading.setRange(0, 0)
        self.loading.setMaximumWidth(120)
        self.loading.setMaximumHeight(14)
        self.loading.setTextVisible(False)
        self.privacy = QLabel("")
        self.privacy.setAccessibleName("Privacy status")
        self.addWidget(self.loading)
        self.addWidget(self.model_label, 1)
        self.addPermanentWidget(self.privacy)
        self.status: PrivacyStatus | None = None

    def set_loading(self, text: str) -> None:
        self.loading.setVisible(True)
        self.model_label.setText(text)

    def set_model(self, model_id: str, device: str) -> None:
        self.loading.setVisible(False)
        self.model_label.setText(f"Model: {model_id} · {device}")
        self.model_label.setToolTip(f"Answers are written by {model_id}, computed on {device}.")

    def set_failed(self, text: str) -> None:
        self.loading.setVisible(False)
        self.model_label.setText(f"Model not loaded: {text}")
        self.model_label.setToolTip(text)

    def set_privacy(self, status: PrivacyStatus) -> None:
        if status == self.status:
            return
        self.status = status
        colour = _WARN if status.left_computer or not status.guard_on else _OK
        self.privacy.setText(f"<span style='color:{colour}'>●</span> {status.text}")
        self.privacy.setToolTip(status.detail)
        self.privacy.setAccessibleDescription(f"{status.text}. {status.detail}")

    def privacy_text(self) -> str:
        return self.status.text if self.status else ""
