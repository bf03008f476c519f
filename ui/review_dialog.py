"""The review of a request to the approved frontier model: exactly what would leave this computer.

Shows where it goes, how many identifiers were replaced, what was left out and why, and the
exact outgoing text with each placeholder highlighted in yellow and each place that looks like an
identifier but was not replaced in red (underlined), so the person's read goes where it matters.
"Don't send" is the default button; nothing is sent unless the person presses "Send".
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextFormat
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
RISK = QColor(230, 40, 40, 90)  # a translucent red: look here, this was not replaced
_MARK = QTextFormat.Property.UserProperty + 1  # "placeholder" or "risk" on a highlighted run


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
    "AGE": ("age over 89", "ages over 89"), "HEALTH_PLAN": ("health plan id", "health plan ids"),
    "LICENSE": ("licence number", "licence numbers"), "VEHICLE": ("vehicle id", "vehicle ids"),
    "DEVICE": ("device id", "device ids"), "URL": ("web address", "web addresses"),
    "IP": ("IP address", "IP addresses"), "BIOMETRIC": ("biometric id", "biometric ids"),
    "PHOTO": ("photo or image", "photos or images"),
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
        self.left_out = QLabel(left_out_summary(request))
        self.left_out.setWordWrap(True)
        self.left_out.setAccessibleName("Left out")
        self.left_out.setVisible(bool(request.left_out))
        self.check = QLabel(risk_summary(request))
        self.check.setWordWrap(True)
        self.check.setAccessibleName("Check before sending")
        self.check.setVisible(bool(request.risks))
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
        layout.addWidget(self.left_out)
        layout.addWidget(self.check)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.cancel_button.setFocus()

    def _highlight(self) -> None:
        marked = QTextCharFormat()
        marked.setBackground(HIGHLIGHT)
        marked.setFontWeight(700)
        marked.setProperty(_MARK, "placeholder")
        risky = QTextCharFormat()
        risky.setBackground(RISK)
        risky.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        risky.setUnderlineColor(QColor(200, 0, 0))
        risky.setProperty(_MARK, "risk")
        text = self.request.display_text
        runs = [(s.display_start, s.display_end, marked) for s in self.request.spans]
        runs += [(r.display_start, r.display_end, risky) for r in self.request.risks]
        for start, end, style in runs:
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(_utf16(text, start))
            cursor.setPosition(_utf16(text, end), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(style)

    def _runs(self, mark: str) -> list[str]:
        runs: list[str] = []
        block = self.text.document().begin()
        while block.isValid():
            for run in block.textFormats():
                if run.format.property(_MARK) == mark:
                    runs.append(block.text()[run.start : run.start + run.length])
            block = block.next()
        return runs

    def highlighted_texts(self) -> list[str]:
        """The text of every placeholder's highlighted run, in order (what a test or screen
        reader checks)."""
        return self._runs("placeholder")

    def risk_texts(self) -> list[str]:
        """The text of every run marked as a possible identifier that was not replaced."""
        return self._runs("risk")


def left_out_summary(request: FrontierRequest) -> str:
    """ "Left out of the request: note_b.txt (names another patient)." or "" (nothing was)."""
    if not request.left_out:
        return ""
    items = "; ".join(f"{item.document} ({item.reason})" for item in request.left_out)
    return f"Left out of the request: {items}."


def risk_summary(request: FrontierRequest) -> str:
    n = len(request.risks)
    if not n:
        return ""
    return (
        f"Check the {n} place{'s' if n != 1 else ''} underlined in red: "
        f"{'it looks' if n == 1 else 'they look'} like an identifier but "
        f"{'was' if n == 1 else 'were'} not replaced. Don't send if one identifies someone."
    )


def _utf16(text: str, index: int) -> int:
    """Qt counts positions in UTF-16 code units; Python in code points."""
    return len(text[:index].encode("utf-16-le")) // 2
