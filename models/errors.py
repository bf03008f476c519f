"""Errors of the models layer. Every message is meant to be shown to a person as it is."""

from __future__ import annotations


class ModelError(Exception):
    """The models layer's one user-facing base: str() is a sentence for a person."""


class ModelFileError(ModelError):
    """A model file cannot be used; str() says why in plain words (and what to do, if known)."""


class ModelLoadError(ModelFileError):
    """llama.cpp refused to load the file; the message carries llama.cpp's own reason."""

    def __init__(self, message: str, llama_log: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.llama_log = llama_log


class ModelAlreadyInstalledError(ModelFileError):
    """The same file (same sha256) or the same id is already in the catalog."""

    def __init__(self, message: str, model_id: str) -> None:
        super().__init__(message)
        self.model_id = model_id


class ChecksumMismatchError(ModelFileError):
    """A file's sha256 differs from the one it was announced with."""


class ModelChangedError(ModelFileError):
    """An installed model's file is missing or no longer the file that was imported (checked
    before it is loaded); the model is not used."""


class DegenerateModelError(ModelError):
    """A model's replies to the health probe are degenerate (empty, punctuation only, one token
    repeated); it is not used for questions until `enclave models verify` finds it healthy."""


class CatalogError(ModelError):
    """The catalog file itself cannot be read; it is left untouched."""


class ContextOverflowError(ModelError):
    """A prompt does not fit the model's context window, even after trimming old turns."""

    def __init__(self, message: str, prompt_tokens: int, n_ctx: int) -> None:
        super().__init__(message)
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx


class EngineClosedError(ModelError):
    """The engine was closed; load the model again to use it."""
