"""What the CLI's commands share: the user-error type, printing a streamed answer, and a
one-line progress bar on stderr (only when it is a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from app.chat.service import ChatAnswer, ChatEvent, Token
from app.errors import EnclaveError
from models.types import CancelToken

__all__ = ["CliError", "drain", "progress_line"]


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


def drain(events: Iterator[ChatEvent], cancel: CancelToken, *, stream: bool) -> ChatAnswer:
    """Print streamed tokens (when `stream`) and return the final ChatAnswer; Ctrl-C stops the
    answer and still returns what was stored."""
    result: ChatAnswer | None = None
    shown: list[str] = []
    try:
        for event in events:
            if isinstance(event, Token) and stream:
                shown.append(event.text)
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, ChatAnswer):
                result = event
    except KeyboardInterrupt:
        cancel.cancel()  # the engine stops; drain to get the stored (partial) answer
        result = _rest_after_interrupt(events) or result
        if result is None:  # Ctrl-C landed outside the generation: nothing to show
            raise
    if result is None:
        raise RuntimeError("the answer ended without its final event")
    final = result.answer.strip()
    if stream and final and not result.cancelled and final not in "".join(shown):
        # nothing was generated, or the router replaced the draft (abstention, removed claims)
        print(f"\n{final}" if shown else final)
    return result


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
