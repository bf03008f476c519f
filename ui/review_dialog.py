"""The review of a request to the approved frontier model: exactly what would leave this computer.

Shows where it goes, how many identifiers were replaced, and the exact outgoing text with each
placeholder highlighted. "Don't send" is the default button; nothing is sent unless the person
presses "Send".
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.facade import FrontierRequest

HIGHLIGHT = QColor(255, 214, 10, 110)  # a translucent yellow: readable in light and dark themes


# What each placeholder kind is called in the summary (singular, plural).
KIND_WORDS: dict[str, tuple[str, str]] = {
    "PERSON": ("name", "names"), "DATE": ("date", "dates"),
    "MRN": ("record number", "record numbers"), "NPI": ("NPI", "NPIs"),
    "PHONE": ("phone number", "phone numbers"), "FAX": ("fax number", "fax numbers"),
    "EMAIL": ("email address", "email addresses"),
    "ADDRESS": ("postal address", "postal addresses"), "SSN": ("SSN", "SSNs"),
    "NATIONAL_ID": ("national id", "national ids"),
    "ACCOUNT": ("account number", "account numbers"), "CASE": ("case number", "case numbers"),
    "MATTER": ("matter id", "matter ids"), "ID": ("other identifier", "other identifiers"),
}  # fmt: skip


def redaction_summary(request: FrontierRequest) -> str:
    parts = []
    for kind, n in sorted(request.redaction_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        one, many = KIND_WORDS.get(kind, (kind.lower(), kind.lower()))
        parts.append(f"{n} {one if n == 1 else many}")
    counts = ", ".join(parts)
    sources = f"{request.chunks_sent} passage{'s' if request.chunks_sent != 1 else ''}"
    return (
        f"Replaced before sending: {counts or 'nothing (no identifiers found)'}. "
        f"Passages from your documents: {sources}. "
        f"Request fingerprint (in the audit ledger): {request.request_sha256[:16]}…"
    )


class FrontierReviewDialog(QDialog):
    def __init__(self, request: FrontierRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.setWindowTitle("Review what will be sent")
        self.setAccessibleName("Review what will be sent")
        self.resize(760, 620)
        endpoint = request.endpoint
        where = QLabel(
            f"This request will be sent to <b>{endpoint.label or endpoint.host}</b> "
            f"({request.destination}, model {endpoint.model}), which your administrator "
            "approved. Identifiers were replaced by placeholders, <b>highlighted</b> below. "
            "The answer's placeholders are put back on this computer."
        )
        where.setWordWrap(True)
        where.setAccessibleName("Destination")
        self.summary = QLabel(redaction_summary(request))
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Redaction summary")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Exact outgoing text")
        self.text.setPlainText(request.display_text)
        self._highlight()
        buttons = QDialogButtonBox()
        self.send_button = QPushButton("Send")
        self.send_button.setAccessibleName("Send to the frontier model")
        self.send_button.setAutoDefault(False)
        self.cancel_button = QPushButton("Don't send")
        self.cancel_button.setAccessibleName("Do not send")
        self.cancel_button.setDefault(True)
        buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(where)
        layout.addWidget(self.summary)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.cancel_button.setFocus()

    def _highlight(self) -> None:
        marked = QTextCharFormat()
        marked.setBackground(HIGHLIGHT)
        marked.setFontWeight(700)
        document = self.text.document()
        text = self.request.display_text
        for span in self.request.spans:
            cursor = QTextCursor(document)
            cursor.setPosition(_utf16(text, span.display_start))
            cursor.setPosition(_utf16(text, span.display_end), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(marked)

    def highlighted_texts(self) -> list[str]:
        """The text of every highlighted run, in order (what a test or screen reader checks)."""
        runs: list[str] = []
        block = self.text.document().begin()
        while block.isValid():
            for run in block.textFormats():
                if run.format.background().color().alpha() == HIGHLIGHT.alpha():
                    runs.append(block.text()[run.start : run.start + run.length])
            block = block.next()
        return runs


def _utf16(text: str, index: int) -> int:
    """Qt counts positions in UTF-16 code units; Python in code points."""
    return len(text[:index].encode("utf-16-le")) // 2
