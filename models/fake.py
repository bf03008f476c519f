"""ScriptedEngine: a ChatEngine that answers from a script, for fast tests of the layers above.

It streams each reply word by word (one "token" per word, leading space attached), honours
cancel tokens, max_tokens and stop strings, and records the conversations it was given. It is a
stand-in for tests of other features; the real engine is tested with the real model.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence

from models.chat_format import TextAssembler
from models.errors import EngineClosedError
from models.types import (
    CancelToken,
    FinishReason,
    GenerationOptions,
    GenerationStats,
    Message,
    StreamEvent,
)

Script = Sequence[str] | Callable[[Sequence[Message]], str]


class ScriptedEngine:
    def __init__(
        self,
        replies: Script = ("OK.",),
        *,
        device: str = "CPU",
        n_ctx: int = 4096,
        delay_s: float = 0.0,
    ) -> None:
        """`replies`: answers given in turn (the last one repeats), or a function of the
        conversation. `delay_s`: pause after each word, to test cancelling and streaming UIs."""
        self._replies = replies
        self._turn = 0
        self._device = device
        self._n_ctx = n_ctx
        self._delay = delay_s
        self.calls: list[list[Message]] = []
        self.closed = False

    @property
    def device(self) -> str:
        return self._device

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        """One token per word: an approximation good enough for budget tests."""
        return len(text.split())

    def close(self) -> None:
        self.closed = True

    def _next_reply(self, messages: Sequence[Message]) -> str:
        if callable(self._replies):
            return self._replies(messages)
        if not self._replies:
            return ""
        reply = self._replies[min(self._turn, len(self._replies) - 1)]
        self._turn += 1
        return reply

    def generate(
        self,
        messages: Sequence[Message],
        options: GenerationOptions,
        cancel: CancelToken | None = None,
    ) -> Iterator[StreamEvent]:
        """Iterated on the caller's thread, like LlamaEngine.generate."""
        if self.closed:
            raise EngineClosedError("the scripted engine was closed")
        self.calls.append(list(messages))
        start = time.perf_counter()
        prompt_tokens = sum(self.count_tokens(m.content) for m in messages)
        words = re.findall(r"\s*\S+", self._next_reply(messages))
        text = TextAssembler(options.stop)
        finish: FinishReason = "stop"
        produced = 0
        first = 0.0
        for word in words:
            if cancel is not None and cancel.cancelled:
                finish = "cancelled"
                break
            if produced >= options.max_tokens:
                finish = "length"
                break
            produced += 1
            first = first or time.perf_counter() - start
            piece, hit = text.push(word)
            if piece:
                yield StreamEvent(text=piece)
            if hit:
                break
            if self._delay:
                time.sleep(self._delay)
        else:
            if rest := text.flush():
                yield StreamEvent(text=rest)
        yield StreamEvent(
            stats=GenerationStats(
                prompt_tokens=prompt_tokens,
                completion_tokens=produced,
                reused_prompt_tokens=0,
                seconds_to_first_token=first,
                seconds_total=time.perf_counter() - start,
                finish_reason=finish,
            )
        )
