"""The compact line under each answer: model, device, tokens, seconds, sources and the route,
with how sure Enclave is. Pure functions (no widgets): the same line for a live answer and for
one read back from history."""

from __future__ import annotations

from typing import Any

from app.desktop.facade import ChatAnswer


def meta_line(
    model: str, device: str, tokens: int | None, seconds: float, sources: int, route: str
) -> str:
    parts = [model, device if device and device != "none" else ""]
    if tokens is not None:
        parts.append(f"{tokens} tokens")
    parts += [f"{seconds:.1f} s", f"{sources} source{'s' if sources != 1 else ''}"]
    if route:
        parts.append(f"route: {route}")
    return " · ".join(p for p in parts if p)


def route_text(route: dict[str, Any]) -> str:
    """The route part of the answer line: tier and domain, then how sure Enclave is:
    "self-consistency, legal, 5 samples, 80% agree, confidence 0.74"."""
    parts = [str(route.get("tier", "")), str(route.get("domain", ""))]
    samples = route.get("samples")
    if isinstance(samples, int) and samples > 1:
        parts.append(f"{samples} samples")
    agreement = route.get("agreement")
    if isinstance(agreement, int | float):
        parts.append(f"{agreement:.0%} agree")
    confidence = route.get("confidence")
    if isinstance(confidence, int | float):
        parts.append(f"confidence {confidence:.2f}")
    text = ", ".join(p for p in parts if p)
    return text + (
        " (frontier offered)" if route.get("frontier_offered", route.get("escalate")) else ""
    )


def answer_meta(answer: ChatAnswer) -> str:
    r = answer.route
    route = route_text(r.to_dict())
    tokens = None if answer.stats is None else answer.stats.completion_tokens
    return meta_line(r.model_id, answer.device, tokens, answer.seconds, len(answer.sources), route)


def stored_meta(meta: dict[str, Any]) -> str:
    route = meta.get("route") if isinstance(meta.get("route"), dict) else {}
    assert isinstance(route, dict)
    seconds = meta.get("seconds")
    return meta_line(
        str(route.get("model_id", "")),
        str(meta.get("device", "")),
        meta.get("tokens") if isinstance(meta.get("tokens"), int) else None,
        float(seconds) if isinstance(seconds, int | float) else 0.0,
        int(meta.get("sources", 0) or 0),
        route_text(route) if route else "",
    )


def progress_text(
    seconds: float, tokens: int = 0, writing_seconds: float | None = None, stage: str = ""
) -> str:
    """The line shown while an answer is prepared: the stage, the seconds since the question
    was sent and, once tokens flow, how many and how fast ("Writing the answer… 12 s ·
    48 tokens · 8.1 tokens/s"). `writing_seconds`: the time since the first token."""
    parts = [stage or ("Writing the answer…" if tokens else "Searching your documents…")]
    parts.append(f"{seconds:.0f} s")
    if tokens:
        parts.append(f"{tokens} token{'s' if tokens != 1 else ''}")
        if writing_seconds is not None and writing_seconds >= 0.5:
            parts.append(f"{tokens / writing_seconds:.1f} tokens/s")
    return " · ".join(parts)
