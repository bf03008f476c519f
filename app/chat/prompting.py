"""The prompt Enclave sends to a local model: a fixed system turn, earlier turns, then the
numbered sources with the question. Sources sit in the user turn (not the system turn) so a
follow-up question shares the whole earlier conversation as a prefix, which llama.cpp reuses."""

from __future__ import annotations

from collections.abc import Sequence

from models.types import Message
from rag.injection import fence
from rag.types import Hit

SYSTEM_PROMPT = (
    "You are Enclave, a careful assistant for clinicians and lawyers. Answer the question using "
    "only the numbered sources. After each claim, cite its source as [1], [2] and so on. Quote "
    "the exact words of a source in double quotes when it helps. If the sources do not answer "
    "the question, reply exactly: Not found in your documents."
)
NOT_FOUND_TEXT = "Not found in your documents."
MAX_SOURCE_CHARS = 1200


def format_sources(sources: Sequence[Hit]) -> str:
    blocks = []
    for n, hit in enumerate(sources, start=1):
        fenced, _ = fence(hit.chunk.text)  # a document's orders to an AI never reach the model
        text = " ".join(fenced.split())[:MAX_SOURCE_CHARS]
        blocks.append(f"[{n}] {hit.document_name}, page {hit.chunk.page}:\n{text}")
    return "\n\n".join(blocks)


def user_turn(question: str, sources: Sequence[Hit]) -> str:
    if not sources:
        return f"Question: {question}"
    return f"Sources:\n{format_sources(sources)}\n\nQuestion: {question}"


def build_messages(
    question: str, sources: Sequence[Hit], earlier: Sequence[Message] = ()
) -> list[Message]:
    """System turn, the earlier turns as they were sent, then this question with its sources."""
    return [
        Message("system", SYSTEM_PROMPT),
        *earlier,
        Message("user", user_turn(question, sources)),
    ]
