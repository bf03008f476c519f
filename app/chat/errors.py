"""The chat's user error: a question that cannot be asked, said in one sentence."""

from __future__ import annotations

from app.errors import EnclaveError


class ChatError(EnclaveError):
    """The question could not be asked; the message says why."""
