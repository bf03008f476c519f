"""What would leave this computer, for review: the exact outgoing text of a frontier request,
with every redaction's place in it, the places that look like identifiers but were not replaced
(app.privacy.risk), the passages left out and why, and its rendering for a terminal
(`--show-request`). The desktop's review dialog highlights the same spans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.privacy.risk import REASON_WORDS, find_risks
from models.types import Message

if TYPE_CHECKING:
    from app.privacy.policy import Endpoint
    from app.privacy.redaction import RedactionSession

__all__ = [
    "FrontierRequest",
    "LeftOut",
    "RedactedSpan",
    "RiskSpan",
    "display",
    "join_parts",
    "render_for_terminal",
    "risk_spans",
]

RISK_OPEN, RISK_CLOSE = "⟨?", "⟩"  # a possible identifier that was not replaced
_COLOURS = {"placeholder": "\x1b[1;32m", "risk": "\x1b[1;97;41m", "reset": "\x1b[0m"}


@dataclass(frozen=True)
class RedactedSpan:
    """A redaction in the outgoing text: offsets in `display_text` and in its message."""

    display_start: int
    display_end: int
    message_index: int
    start: int
    end: int
    kind: str
    placeholder: str


@dataclass(frozen=True)
class RiskSpan:
    """Text in the outgoing request that looks like an identifier and was not replaced."""

    display_start: int
    display_end: int
    reason: str  # app.privacy.risk.RiskReason

    @property
    def why(self) -> str:
        return REASON_WORDS.get(self.reason, self.reason)


@dataclass(frozen=True)
class LeftOut:
    """A document (or passage) found for the question and not sent, with the reason."""

    document: str
    reason: str  # "names another patient", "does not answer the question", ...

    def line(self) -> str:
        return f"left out: {self.document}, {self.reason}"


@dataclass(frozen=True)
class FrontierRequest:
    """Exactly what `send()` would post, for review. Its redaction mapping never leaves memory."""

    id: str
    workspace_id: str
    endpoint: Endpoint
    messages: tuple[Message, ...]
    body: bytes = field(repr=False)
    request_sha256: str
    display_text: str = field(repr=False)
    spans: tuple[RedactedSpan, ...] = field(repr=False)
    redaction_counts: Mapping[str, int]
    review_required: bool
    chunks_sent: int
    session: RedactionSession = field(repr=False, compare=False)
    risks: tuple[RiskSpan, ...] = field(default=(), repr=False)
    left_out: tuple[LeftOut, ...] = field(default=(), repr=False)

    @property
    def destination(self) -> str:
        return self.endpoint.destination

    def marked_text(
        self,
        open_mark: str = "⟦",
        close_mark: str = "⟧",
        risk_open: str = RISK_OPEN,
        risk_close: str = RISK_CLOSE,
    ) -> str:
        """`display_text` with each placeholder wrapped in marks, and each place that looks like
        an identifier but was not replaced in other marks (for a terminal)."""
        marks = [(s.display_start, s.display_end, open_mark, close_mark) for s in self.spans]
        marks += [(r.display_start, r.display_end, risk_open, risk_close) for r in self.risks]
        out, cursor = [], 0
        for start, end, before, after in sorted(marks):
            if start < cursor:  # never overlaps a placeholder (risk.py skips them); be safe
                continue
            out += [self.display_text[cursor:start], before, self.display_text[start:end], after]
            cursor = end
        out.append(self.display_text[cursor:])
        return "".join(out)


def join_parts(
    parts: Sequence[tuple[str, Sequence[Any]]],
) -> tuple[str, list[tuple[int, int, Any]]]:
    text: list[str] = []
    spans: list[tuple[int, int, Any]] = []
    offset = 0
    for piece, piece_spans in parts:
        for span in piece_spans:
            spans.append((offset + span.start, offset + span.end, span))
        text.append(piece)
        offset += len(piece)
    return "".join(text), spans


def display(
    messages: Sequence[Message], spans_by_message: Mapping[int, list[tuple[int, int, Any]]]
) -> tuple[str, tuple[RedactedSpan, ...]]:
    out: list[str] = []
    spans: list[RedactedSpan] = []
    offset = 0
    for index, message in enumerate(messages):
        header = f"--- {message.role} ---\n"
        out.append(header)
        offset += len(header)
        for start, end, span in spans_by_message.get(index, []):
            spans.append(
                RedactedSpan(
                    offset + start, offset + end, index, start, end, span.kind, span.placeholder
                )
            )
        out.append(message.content + "\n")
        offset += len(message.content) + 1
    return "".join(out), tuple(spans)


def risk_spans(
    messages: Sequence[Message], display_text: str, *, from_message: int = 1
) -> tuple[RiskSpan, ...]:
    """The places in the messages from `from_message` on (the system prompt is the app's own
    text) that look like identifiers, in `display_text` offsets (as `display` lays it out)."""
    spans: list[RiskSpan] = []
    offset = 0
    for index, message in enumerate(messages):
        offset += len(f"--- {message.role} ---\n")
        if index >= from_message:
            for risk in find_risks(message.content):
                spans.append(RiskSpan(offset + risk.start, offset + risk.end, risk.reason))
        offset += len(message.content) + 1
    return tuple(s for s in spans if s.display_end <= len(display_text))


def render_for_terminal(request: FrontierRequest, *, colour: bool = False) -> str:
    """What `--show-request` prints: destination, counts, what was left out and why, the places
    to check, the hash, and the exact text. `colour` (a terminal): placeholders in green and
    places to check in white on red; otherwise placeholders in ⟦ ⟧ and places to check in ⟨? ⟩."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(request.redaction_counts.items())) or "none"
    lines = [
        f"Destination: {request.endpoint.base_url} (model {request.endpoint.model})",
        f"Redactions: {counts}; sources sent: {request.chunks_sent}",
    ]
    lines += [item.line() for item in request.left_out]
    if request.risks:
        n = len(request.risks)
        where = "highlighted in red" if colour else f"marked {RISK_OPEN} {RISK_CLOSE}"
        lines.append(
            f"Check: {n} place{'s' if n != 1 else ''} that look{'s' if n == 1 else ''} like "
            f"an identifier but {'was' if n == 1 else 'were'} not replaced ({where})."
        )
    lines.append(f"Request sha256: {request.request_sha256}")
    if colour:
        c = _COLOURS
        text = request.marked_text(
            c["placeholder"], c["reset"], c["risk"] + RISK_OPEN, RISK_CLOSE + c["reset"]
        )
        lines.append("Exact outgoing text (redactions in green):")
    else:
        text = request.marked_text()
        lines.append("Exact outgoing text (redactions marked ⟦ ⟧):")
    return "\n".join(lines) + "\n" + text
