"""Text in a document that addresses an AI assistant ("ignore all previous instructions", "tell
the user...", "system:"), found so that it is never followed and never quoted as evidence.

A document is data. A sentence that gives orders to an assistant, plays a role, or fakes a chat
turn is flagged at ingest (a warning on the document), left out of the model's prompt (replaced
by a marker), and never chosen as evidence or as support for a fact; the person is told. The
patterns are kinds of address, not phrases of any particular file. Pure functions, no state.
"""

from __future__ import annotations

import re

from rag.sentences import sentence_spans

__all__ = ["REMOVED_MARKER", "fence", "instruction_spans", "overlaps_instruction"]

REMOVED_MARKER = "[text addressed to an AI assistant: not shown, not followed]"

_PATTERNS = [
    # orders about the assistant's own instructions
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}\b(?:instructions?|prompts?|"
    r"system (?:prompt|message)s?|everything (?:above|before)|(?:all|any|the) (?:previous|prior|"
    r"earlier|above) (?:instructions?|rules|messages|text|context|guidelines))\b",
    r"\bnew instructions?\b|\byour (?:instructions|system prompt|guidelines)\b",
    # talking to the assistant about the user or its answer
    r"\b(?:tell|inform|convince|assure)\s+(?:the\s+)?(?:user|reader|human)\b",
    r"(?:^|[.!?]\s+|\n)\s*(?:respond|reply|answer)\s+(?:only\s+)?(?:with|that|by saying|as if)\b",
    r"\b(?:you are|you're|act as|pretend to be|roleplay as|from now on you)\b[^.!?\n]{0,30}"
    r"\b(?:assistant|ai|model|chatbot|gpt|llm|bot)\b",
    r"\b(?:as an ai|ai assistant|the assistant (?:must|should)|the model (?:must|should))\b",
    # fake chat turns and control tokens
    r"(?:^|\n)\s*(?:system|assistant)\s*:",
    r"<\|(?:im_start|im_end|system|user|assistant|endoftext)\|>|\[/?INST\]|<<SYS>>",
    r"###\s*(?:system|instruction)|\bsystem (?:prompt|note|message|override)\b",
]
_INJECTION_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE)


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text` that addresses an AI assistant."""
    if not _INJECTION_RE.search(text):
        return []
    return [(s, e) for s, e in sentence_spans(text) if _INJECTION_RE.search(text[s:e])] or [
        (m.start(), m.end()) for m in _INJECTION_RE.finditer(text)
    ]


def overlaps_instruction(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def fence(text: str) -> tuple[str, int]:
    """`text` with each sentence that addresses an assistant replaced by REMOVED_MARKER, and
    how many were replaced."""
    spans = instruction_spans(text)
    for start, end in reversed(spans):
        text = text[:start] + REMOVED_MARKER + text[end:]
    return text, len(spans)
