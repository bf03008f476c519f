"""OpenAI's chat-completions request and response shapes, to and from Enclave's ask.

A request: `model` (app.serve.names), `messages` (the last one, from the user, is the question),
`stream`, and Enclave's own optional fields `workspace`, `conversation_id` (continue a stored
conversation: its earlier turns are the context) and `documents` (ask only these). Earlier
entries of `messages` are not used: ChatService keeps a conversation's context itself, exactly
as it was answered. `reasoning_effort` "minimal"/"low" asks quickly (one direct answer), "high"
thinks harder; sampling fields (temperature, max_tokens, top_p, seed, stop) are accepted and
ignored: the settings and the router decide them, as in the app.

The answer's `content` is what a person reads in the terminal: the evidence (the documents' own
words, with where they stand) and then the model's sentences that passed the fact check. The
model's unchecked draft is never sent. The `enclave` field of the response (and of a stream's
last chunk) is the `enclave ask --json` object plus "workspace": evidence, citations, not_found,
route, notices, conversation_id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.chat.answer import EvidenceQuote
from app.chat.types import AskOptions, ChatAnswer
from app.library.names import display_name
from app.serve.errors import ServeError
from app.serve.names import Target

__all__ = [
    "ChatRequest",
    "Completion",
    "ask_options",
    "evidence_text",
    "parse_request",
    "question_of",
    "rest_of_answer",
]

MAX_DOCUMENTS = 50


class _TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[_TextPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        if any(part.type != "text" for part in self.content):
            raise ServeError(
                "Enclave answers text questions only: send the message's content as text.",
                param="messages",
            )
        return "\n".join(part.text for part in self.content)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=500)
    stream: bool = False
    n: int = 1
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    reasoning_effort: str | None = None
    workspace: str | None = Field(None, max_length=200)
    conversation_id: str | None = Field(None, max_length=64)
    documents: list[str] = Field(default_factory=list, max_length=MAX_DOCUMENTS)


def parse_request(data: Any) -> ChatRequest:
    """Validate a decoded body; a ServeError names the field (never its value)."""
    if not isinstance(data, dict):
        raise ServeError("The request body must be a JSON object.")
    try:
        request = ChatRequest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise ServeError(
            f"The request's {where!r} is not valid: {err['msg']}.", param=where
        ) from None
    if request.n != 1:
        raise ServeError("Enclave gives one answer per request: leave n at 1.", param="n")
    if request.tools or request.functions:
        raise ServeError(
            "Enclave does not call tools or functions: it answers from the workspace's documents.",
            param="tools",
        )
    return request


def question_of(request: ChatRequest) -> str:
    """The question: the last message, which must be the user's and not empty."""
    last = request.messages[-1]
    if last.role != "user":
        raise ServeError(
            "The last message must be the user's question (Enclave answers one question per "
            "request).",
            param="messages",
        )
    question = last.text().strip()
    if not question:
        raise ServeError("The question (the last user message) is empty.", param="messages")
    return question


def ask_options(request: ChatRequest, target: Target) -> AskOptions:
    effort = (request.reasoning_effort or "").lower()
    choice: Literal["auto", "quick", "think_harder"] = (
        "quick" if effort in ("minimal", "low") else "think_harder" if effort == "high" else "auto"
    )
    return AskOptions(
        conversation_id=request.conversation_id or None,
        choice=choice,
        model_id=target.model_id,
        documents=tuple(d for d in request.documents if d.strip()),
    )


# -- the answer as a person reads it -----------------------------------------------------------
def evidence_text(evidence: Sequence[EvidenceQuote]) -> str:
    """The evidence block, as the terminal prints it ("" when there is none)."""
    if not evidence:
        return ""
    lines = ["From your documents:"]
    for q in evidence:
        lines.append(f'[{q.n}] "{" ".join(q.quote.split())}"')
        lines.append(f"    {display_name(q.document)}, {q.where()}")
    return "\n".join(lines)


def rest_of_answer(answer: ChatAnswer, shown: Sequence[EvidenceQuote]) -> str:
    """What follows the evidence block already shown: the checked sentences, or the answer's
    own words when they are more than those quotes ("Not found", each document's answer);
    nothing when the quotes shown are the whole answer."""
    text = answer.answer.strip()
    same = [q.to_json() for q in answer.evidence] == [q.to_json() for q in shown]
    if shown and same and answer.evidence_only and text == _quotes_line(answer.evidence):
        return ""
    return ("\n\n" if shown and text else "") + text


def _quotes_line(evidence: Sequence[EvidenceQuote]) -> str:
    """An evidence-only answer's text (app.chat.answer.evidence_only)."""
    return " ".join(f"\u201c{' '.join(q.quote.split())}\u201d [{q.n}]" for q in evidence)


def full_content(answer: ChatAnswer) -> str:
    """The whole content of a non-streamed answer: evidence first, then the checked answer."""
    return evidence_text(answer.evidence) + rest_of_answer(answer, answer.evidence)


def extension(answer: ChatAnswer, workspace_id: str) -> dict[str, Any]:
    """The documented `enclave` field: the `enclave ask --json` object and the workspace."""
    return {**answer.to_json(), "workspace": workspace_id}


def usage(answer: ChatAnswer) -> dict[str, int]:
    stats = answer.stats
    prompt = 0 if stats is None else stats.prompt_tokens
    completion = 0 if stats is None else stats.completion_tokens
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}  # fmt: skip


def finish_reason(answer: ChatAnswer) -> str:
    """Always "stop": the content is the checked answer, complete even when the model's draft
    ran out of tokens (that draft is not sent; `enclave.route` tells how it ended)."""
    return "stop"


class Completion:
    """One response's identity (id, model name, creation time) and its JSON objects."""

    def __init__(self, model: str, workspace_id: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.model = model
        self.workspace_id = workspace_id
        self.created = int(time.time())

    def _base(self, obj: str) -> dict[str, Any]:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.model,
                "system_fingerprint": None}  # fmt: skip

    def whole(self, answer: ChatAnswer) -> dict[str, Any]:
        """The non-streamed `chat.completion`."""
        message = {"role": "assistant", "content": full_content(answer), "refusal": None}
        choice = {"index": 0, "message": message, "finish_reason": finish_reason(answer),
                  "logprobs": None}  # fmt: skip
        return {**self._base("chat.completion"), "choices": [choice], "usage": usage(answer),
                "enclave": extension(answer, self.workspace_id)}  # fmt: skip

    def chunk(self, delta: dict[str, Any]) -> dict[str, Any]:
        """A `chat.completion.chunk` carrying `delta`."""
        choice = {"index": 0, "delta": delta, "finish_reason": None, "logprobs": None}
        return {**self._base("chat.completion.chunk"), "choices": [choice]}

    def last_chunk(self, answer: ChatAnswer) -> dict[str, Any]:
        """The stream's last chunk: finish_reason, usage and the `enclave` field."""
        choice = {"index": 0, "delta": {}, "finish_reason": finish_reason(answer),
                  "logprobs": None}  # fmt: skip
        extra = {"usage": usage(answer), "enclave": extension(answer, self.workspace_id)}
        return {**self._base("chat.completion.chunk"), "choices": [choice], **extra}
