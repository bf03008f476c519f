"""What the CLI's commands share: the user-error type, printing a streamed answer, and a
one-line progress bar on stderr (only when it is a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence

from app.chat.answer import EvidenceQuote
from app.chat.service import ChatAnswer, ChatEvent, EvidenceFound, Token
from app.errors import EnclaveError
from app.library.names import display_name
from models.types import CancelToken

__all__ = ["CliError", "drain", "format_evidence", "progress_line"]


class CliError(EnclaveError):
    """A failure of a command's input, reported to the user in one sentence (exit code 1)."""


def progress_line(done: int | None, total: int | None, label: str, extra: str) -> None:
    """Redraw the progress line; call with done=None to clear it."""
    if not sys.stderr.isatty():
        return
    if done is None or not total:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
        return
    width = 24
    filled = int(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    sys.stderr.write(f"\r\033[K[{bar}] {done}/{total} {extra}  {label[:40]}")
    sys.stderr.flush()


def format_evidence(evidence: Sequence[EvidenceQuote]) -> str:
    """The evidence block: each quote with its document and page (or line, for text files)."""
    lines = ["From your documents:"]
    for q in evidence:
        lines.append(f'[{q.n}] "{q.shown}"')
        lines.append(f"    {display_name(q.document)}, {q.where()}")
    return "\n".join(lines)


def drain(events: Iterator[ChatEvent], cancel: CancelToken, *, stream: bool) -> ChatAnswer:
    """Show the answer as a person should read it (when `stream`): the evidence as soon as it
    is chosen, then the checked answer once the model has finished. The model's draft is not
    printed while it is written: a sentence that fails the fact check is never on screen
    (a progress line on stderr counts its words instead). Returns the final ChatAnswer; Ctrl-C
    stops the answer and still returns what was stored."""
    result: ChatAnswer | None = None
    words = 0
    try:
        for event in events:
            if isinstance(event, EvidenceFound) and stream and event.evidence:
                print(format_evidence(event.evidence), flush=True)
            elif isinstance(event, Token) and stream:
                _writing(words, first=words == 0)
                words += max(1, len(event.text.split()))
            elif isinstance(event, ChatAnswer):
                result = event
    except KeyboardInterrupt:
        cancel.cancel()  # the engine stops; drain to get the stored (partial) answer
        result = _rest_after_interrupt(events) or result
        if result is None:  # Ctrl-C landed outside the generation: nothing to show
            raise
    finally:
        _writing(None)
    if result is None:
        raise RuntimeError("the answer ended without its final event")
    if stream and result.answer.strip() and not result.evidence_only:
        print(("\n" if result.evidence else "") + result.answer.strip())
    elif stream and not result.evidence:
        print(result.answer.strip())
    return result


WRITING = "Checking the answer against your documents…"


def _writing(words: int | None, *, first: bool = False) -> None:
    """A progress line on stderr while the model writes; without a terminal, one line when the
    model starts (so a script or a log shows the answer is under way)."""
    if not sys.stderr.isatty():
        if first:
            print(WRITING, file=sys.stderr, flush=True)
        return
    text = "" if words is None else f"{WRITING} ({words} words)"
    sys.stderr.write(f"\r\033[K{text}")
    sys.stderr.flush()


def _rest_after_interrupt(events: Iterator[ChatEvent]) -> ChatAnswer | None:
    """The final ChatAnswer of `events` after a Ctrl-C, if the answer can still end (it cannot
    when the interrupt was raised inside the answer's own code: it is closed then)."""
    result: ChatAnswer | None = None
    try:
        for event in events:
            if isinstance(event, ChatAnswer):
                result = event
    except KeyboardInterrupt:  # a second Ctrl-C: stop waiting for it
        return None
    return result
