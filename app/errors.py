"""The app layer's one user-facing error base, and what to do with an error that is not one.

Every layer has one base for the failures a person can act on: `models.errors.ModelError`,
`rag.errors.DocumentError`, and `EnclaveError` here. Their messages are sentences written for the
person. The CLI and the window show those (and only those) as they are; anything else is a bug:
the person gets one line naming the log file, the log gets the traceback (which carries code
locations and the exception's kind, never document text, prompts or answers).
"""

from __future__ import annotations

import logging
import traceback

from models.errors import ModelError
from rag.errors import DocumentError

__all__ = ["USER_ERRORS", "EnclaveError", "internal_error", "is_user_error", "user_message"]


class EnclaveError(Exception):
    """A failure a person can act on; str() is one sentence for them."""


USER_ERRORS: tuple[type[Exception], ...] = (EnclaveError, ModelError, DocumentError)

log = logging.getLogger(__name__)


def is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, USER_ERRORS)


def user_message(exc: BaseException) -> str:
    """The sentence of a user error (its first argument, or its str())."""
    text = str(exc).strip()
    return text or type(exc).__name__


def internal_error(exc: BaseException) -> str:
    """Log a bug's traceback, without its message (a message may quote content), and return
    the one line a person sees, naming the log file."""
    from app.logfile import current_log

    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("internal error %s\n%s", type(exc).__name__, frames)
    log_file = current_log()
    where = str(log_file) if log_file is not None else "Enclave's log folder"
    return f"Enclave hit an internal error; details are in {where}."
