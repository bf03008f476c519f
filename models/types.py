"""Small value types owned by the models layer (no heavy imports here)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled", "error"]  # why a generation ended


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 512
    temperature: float = 0.2
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    seed: int | None = 0
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int
    completion_tokens: int
    reused_prompt_tokens: int
    seconds_to_first_token: float
    seconds_total: float
    finish_reason: FinishReason
    trimmed_messages: int = 0  # oldest turns left out so the prompt fits the context window
    error: str = ""  # with finish_reason "error": what went wrong, in words (never content)
    notice: str = ""  # for the answer's notices, e.g. a server that failed and who answered


@dataclass(frozen=True)
class StreamEvent:
    """One event of a streamed generation: a piece of text, or the final stats."""

    text: str = ""
    stats: GenerationStats | None = None
    restart: bool = False  # the text streamed so far is void: the answer starts again here

    @property
    def done(self) -> bool:
        return self.stats is not None


class CancelToken:
    """Thread-safe flag a caller sets to stop a generation. Checked by the inference thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class ModelRecord:
    """One installed model, as the catalog stores it."""

    id: str
    file: str
    sha256: str
    size_bytes: int
    architecture: str
    quantization: str
    context_length: int
    chat_format: str  # "gguf-template" (sandboxed Jinja from the file) or a known format name
    domains: list[str] = field(default_factory=lambda: ["general"])
    licence: str = "unknown"
    source: str = "user"  # "embedded", "user" or "organisation"
    parameters: str = ""
