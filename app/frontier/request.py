"""What would leave this computer, for review: the exact outgoing text of a frontier request,
with every redaction's place in it, and its rendering for a terminal (`--show-request`).
The desktop's review dialog highlights the same spans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from models.types import Message

if TYPE_CHECKING:
    from app.privacy.policy import Endpoint
    from app.privacy.redaction import RedactionSession

__all__ = ["FrontierRequest", "RedactedSpan", "display", "join_parts", "render_for_terminal"]


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

    @property
    def destination(self) -> str:
        return self.endpoint.destination

    def marked_text(self, open_mark: str = "⟦", close_mark: str = "⟧") -> str:
        """`display_text` with each placeholder wrapped in marks (for a terminal)."""
        out, cursor = [], 0
        for span in self.spans:
            out += [
                self.display_text[cursor : span.display_start],
                open_mark,
                self.display_text[span.display_start : span.display_end],
                close_mark,
            ]
            cursor = span.display_end
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


def render_for_terminal(request: FrontierRequest) -> str:
    """What `--show-request` prints: destination, counts, hash, and the exact text, marked."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(request.redaction_counts.items())) or "none"
    return (
        f"Destination: {request.endpoint.base_url} (model {request.endpoint.model})\n"
        f"Redactions: {counts}; sources sent: {request.chunks_sent}\n"
        f"Request sha256: {request.request_sha256}\n"
        f"Exact outgoing text (redactions marked ⟦ ⟧):\n{request.marked_text()}"
    )
