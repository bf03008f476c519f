"""Turn exceptions into one readable sentence for the window. Never a traceback."""

from __future__ import annotations

# Exceptions whose message the app layer writes for people (ValueError covers the app's own
# errors: ChatError, WorkspaceError, SettingsError, model file errors...).
_READABLE = (
    ValueError,
    KeyError,
    FileNotFoundError,
    PermissionError,
    ConnectionError,
    TimeoutError,
)


# Enclave's own packages write every exception message for people (ARCHITECTURE.md).
_OWN_PACKAGES = frozenset({"app", "models", "rag", "ui"})


def readable_error(exc: BaseException) -> str:
    """A sentence a person can act on. Unknown errors name their kind only (no content)."""
    own = type(exc).__module__.split(".")[0] in _OWN_PACKAGES
    if isinstance(exc, _READABLE) or (own and isinstance(exc, Exception)):
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        message = str(message).strip()
        if message:
            return sentence(message)
    if isinstance(exc, MemoryError):
        return "This computer ran out of memory. Close other programs and try again."
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return sentence(f"{exc.strerror}{where}")
    return (
        f"Something went wrong ({type(exc).__name__}). Nothing you stored was lost; "
        "please try again, and tell your administrator if it happens again."
    )


def sentence(text: str) -> str:
    """Capitalise the first letter and end with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…)" else text + "."
