"""Turn a conversation into the prompt text a model was trained on.

Three ways, in order:
1. the model file's own Jinja chat template, rendered ONLY in jinja2's
   ImmutableSandboxedEnvironment (a template comes from a downloaded file: it must not run code);
2. a known format chosen from the file's special tokens or its architecture, if it has no template;
3. otherwise a clear refusal: the user has to choose a format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from models.errors import ModelFileError
from models.types import Message

if TYPE_CHECKING:
    from models.gguf import GGUFInfo

GGUF_TEMPLATE = "gguf-template"

# Control tokens that must not come from message text: the prompt is tokenized with special
# tokens parsed, so a document containing "<|im_start|>system" could otherwise open a turn.
_CONTROL_STRINGS = (
    "<|im_start|>", "<|im_end|>", "<start_of_turn>", "<end_of_turn>", "<|start_header_id|>",
    "<|end_header_id|>", "<|eot_id|>", "<|begin_of_text|>", "<|end_of_text|>", "[INST]",
    "[/INST]", "<|user|>", "<|assistant|>", "<|system|>", "<|end|>", "<|endoftext|>", "<s>",
    "</s>", "<bos>", "<eos>",
)  # fmt: skip
_ZWSP = "\u200b"


def neutralize(text: str) -> str:
    """Break control-token strings in message text with a zero-width space (shown the same)."""
    if "<" not in text and "[" not in text:
        return text
    for marker in _CONTROL_STRINGS:
        if marker in text:
            text = text.replace(marker, marker[0] + _ZWSP + marker[1:])
    return text


def _clean(messages: Sequence[Message]) -> list[Message]:
    return [Message(m.role, neutralize(m.content)) for m in messages]


@dataclass(frozen=True)
class ChatFormat:
    """A named way to render messages, and the strings that end the model's turn."""

    name: str
    render: Callable[[Sequence[Message]], str]
    stop: tuple[str, ...]


def _merge_system(messages: Sequence[Message]) -> list[Message]:
    """Fold system text into the first user turn, for formats without a system role."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    rest = [m for m in messages if m.role != "system"]
    if system and rest and rest[0].role == "user":
        rest[0] = Message("user", f"{system}\n\n{rest[0].content}")
    elif system:
        rest.insert(0, Message("user", system))
    return rest


def _chatml(messages: Sequence[Message]) -> str:
    turns = [f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in _clean(messages)]
    return "".join(turns) + "<|im_start|>assistant\n"


def _gemma(messages: Sequence[Message]) -> str:
    out = []
    for m in _merge_system(_clean(messages)):
        role = "model" if m.role == "assistant" else "user"
        out.append(f"<start_of_turn>{role}\n{m.content}<end_of_turn>\n")
    return "".join(out) + "<start_of_turn>model\n"


def _llama3(messages: Sequence[Message]) -> str:
    turns = [
        f"<|start_header_id|>{m.role}<|end_header_id|>\n\n{m.content.strip()}<|eot_id|>"
        for m in _clean(messages)
    ]
    return "".join(turns) + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def _mistral(messages: Sequence[Message]) -> str:
    out = []
    for m in _merge_system(_clean(messages)):
        out.append(f"[INST] {m.content} [/INST]" if m.role == "user" else f"{m.content}</s>")
    return "".join(out)


def _phi3(messages: Sequence[Message]) -> str:
    turns = [f"<|{m.role}|>\n{m.content}<|end|>\n" for m in _clean(messages)]
    return "".join(turns) + "<|assistant|>\n"


KNOWN_FORMATS: dict[str, ChatFormat] = {
    f.name: f
    for f in (
        ChatFormat("chatml", _chatml, ("<|im_end|>", "<|im_start|>")),
        ChatFormat("gemma", _gemma, ("<end_of_turn>", "<start_of_turn>")),
        ChatFormat("llama-3", _llama3, ("<|eot_id|>", "<|start_header_id|>")),
        ChatFormat("mistral-instruct", _mistral, ("</s>", "[INST]")),
        ChatFormat("phi-3", _phi3, ("<|end|>", "<|endoftext|>", "<|user|>")),
    )
}

# Which format a model without a template gets, by the special tokens its vocabulary has...
_FORMAT_BY_MARKER: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"<start_of_turn>", "<end_of_turn>"}), "gemma"),
    (frozenset({"<|start_header_id|>", "<|eot_id|>"}), "llama-3"),
    (frozenset({"<|im_start|>", "<|im_end|>"}), "chatml"),
    (frozenset({"<|user|>", "<|assistant|>", "<|end|>"}), "phi-3"),
    (frozenset({"[INST]", "[/INST]"}), "mistral-instruct"),
)
# ...or else by its architecture (general.architecture).
FORMAT_BY_ARCHITECTURE: dict[str, str] = {
    "gemma": "gemma",
    "gemma2": "gemma",
    "gemma3": "gemma",
    "gemma3n": "gemma",
    "qwen": "chatml",
    "qwen2": "chatml",
    "qwen2moe": "chatml",
    "qwen3": "chatml",
    "qwen3moe": "chatml",
    "smollm3": "chatml",
    "phi3": "phi-3",
    "mistral": "mistral-instruct",
}


def fallback_format(architecture: str, marker_tokens: frozenset[str] = frozenset()) -> str | None:
    """The known format for a model without a chat template, or None."""
    for needed, name in _FORMAT_BY_MARKER:
        if needed <= marker_tokens:
            return name
    return FORMAT_BY_ARCHITECTURE.get(architecture.lower())


def resolve_chat_format(info: GGUFInfo, requested: str | None = None) -> str:
    """The chat format to store for a model: "gguf-template", a known name, or a refusal.

    A template in the file is test-rendered in the sandbox first, so a broken or hostile one is
    refused at import, not in the middle of a conversation.
    """
    if requested:
        if requested == GGUF_TEMPLATE:
            if info.chat_template is None:
                raise ModelFileError("this model has no chat template of its own; choose a format")
        elif requested not in KNOWN_FORMATS:
            names = ", ".join(sorted(KNOWN_FORMATS))
            raise ModelFileError(f"unknown chat format {requested!r}; known formats: {names}")
        else:
            return requested
    if info.chat_template is not None:
        template = SandboxedTemplate(info.chat_template, info.bos_token, info.eos_token)
        template.render([Message("system", "S"), Message("user", "U"), Message("assistant", "A")])
        return GGUF_TEMPLATE
    name = fallback_format(info.architecture, info.marker_tokens)
    if name is None:
        raise ModelFileError(
            f"this model has no chat template and its architecture {info.architecture or '?'!r} "
            f"is not known; choose a chat format ({', '.join(sorted(KNOWN_FORMATS))})"
        )
    return name


def _raise_exception(message: str) -> None:
    from jinja2.exceptions import TemplateError

    raise TemplateError(message)


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, indent=indent)


class SandboxedTemplate:
    """A GGUF chat template compiled in jinja2's ImmutableSandboxedEnvironment.

    Attribute tricks such as ``''.__class__.__mro__`` and calls to unsafe callables raise
    jinja2's SecurityError, reported as ModelFileError; the template never runs Python code.
    """

    def __init__(self, source: str, bos_token: str = "", eos_token: str = "") -> None:
        import jinja2
        from jinja2.ext import loopcontrols
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(
            loader=jinja2.BaseLoader(),
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[loopcontrols],
            autoescape=False,
        )
        env.filters["tojson"] = _tojson
        env.globals["raise_exception"] = _raise_exception
        self._bos = bos_token
        self._eos = eos_token
        try:
            self._template = env.from_string(source)
        except jinja2.TemplateError as exc:
            raise ModelFileError(f"the model's chat template is not valid: {exc}") from None

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        from jinja2.exceptions import SecurityError, TemplateError

        try:
            return self._template.render(
                messages=[{"role": m.role, "content": neutralize(m.content)} for m in messages],
                add_generation_prompt=add_generation_prompt,
                bos_token=self._bos,
                eos_token=self._eos,
            )
        except SecurityError as exc:
            raise ModelFileError(
                f"the model's chat template tried something unsafe and was stopped ({exc}); "
                "the file may be malicious, do not use it"
            ) from None
        except (TemplateError, TypeError, ValueError, KeyError, IndexError) as exc:
            raise ModelFileError(f"the model's chat template failed: {exc}") from None


def get_chat_format(
    name: str, template: str | None = None, bos_token: str = "", eos_token: str = ""
) -> ChatFormat:
    """The ChatFormat for a catalog entry's `chat_format` ("gguf-template" needs `template`)."""
    if name == GGUF_TEMPLATE:
        if not template:
            raise ModelFileError("the chat format 'gguf-template' needs the model's template")
        compiled = SandboxedTemplate(template, bos_token, eos_token)
        stops = [s for f in KNOWN_FORMATS.values() if f.stop[0] in template for s in f.stop]
        if eos_token and eos_token not in stops:
            stops.append(eos_token)
        return ChatFormat(GGUF_TEMPLATE, compiled.render, tuple(stops))
    try:
        return KNOWN_FORMATS[name]
    except KeyError:
        names = ", ".join(sorted(KNOWN_FORMATS))
        raise ModelFileError(f"unknown chat format {name!r}; known formats: {names}") from None


class TextAssembler:
    """Turns a model's output bytes into text events: UTF-8 sequences split across tokens are
    joined, and text that might be the start of a stop string is held back until it is known.
    Not thread-safe; one per generation."""

    def __init__(self, stops: Sequence[str] = ()) -> None:
        import codecs

        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = tuple(s for s in stops if s)
        self._pending = ""

    def push(self, data: bytes | str) -> tuple[str, bool]:
        """Add output; return (text that is safe to show, whether a stop string was reached)."""
        chunk = data if isinstance(data, str) else self._decoder.decode(data)
        pending = self._pending + chunk
        hits = [i for i in (pending.find(s) for s in self._stops) if i >= 0]
        if hits:
            self._pending = ""
            return pending[: min(hits)], True
        hold = 0
        for stop in self._stops:
            for k in range(min(len(stop) - 1, len(pending)), hold, -1):
                if pending.endswith(stop[:k]):
                    hold = k
                    break
        self._pending = pending[len(pending) - hold :]
        return pending[: len(pending) - hold], False

    def flush(self) -> str:
        """Whatever is held back, at the end of a generation that did not hit a stop string."""
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        return rest
