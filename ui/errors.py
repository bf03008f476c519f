"""Turn exceptions into one readable sentence for the window. Never a traceback.

A user error (app.errors.USER_ERRORS) shows its own sentence; anything else is a bug: one line
naming the log file, and the traceback goes to the log (app.errors.internal_error).
"""

from __future__ import annotations

from app.errors import internal_error, is_user_error, user_message

__all__ = ["readable_error", "sentence"]


def readable_error(exc: BaseException) -> str:
    """A sentence a person can act on. A bug's sentence names the log file, nothing more."""
    if is_user_error(exc):
        return sentence(user_message(exc))
    if isinstance(exc, MemoryError):
        return "This computer ran out of memory. Close other programs and try again."
    return internal_error(exc)


def sentence(text: str) -> str:
    """Capitalise the first letter and end with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…)" else text + "."
