"""The API's errors: a sentence for the client, an HTTP status, and OpenAI's error body."""

from __future__ import annotations

from typing import Any

from app.errors import EnclaveError

__all__ = ["ServeError", "error_body"]


class ServeError(EnclaveError):
    """A request the API refuses; `str()` is one sentence for the client (never content)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        return error_body(str(self), self.kind, self.code, self.param)


def error_body(
    message: str, kind: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error object: {"error": {"message", "type", "param", "code"}}."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
