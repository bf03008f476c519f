"""The compact line under each answer: model, device, tokens, seconds, sources and the route with
how sure Enclave is (samples, agreement, confidence), live and from stored history alike."""

from __future__ import annotations

from app.routing.router import Route
from ui.answer_line import meta_line, route_text, stored_meta


def test_the_route_part_names_samples_agreement_and_confidence() -> None:
    route = Route("legal-model", domain="legal", tier="self-consistency", samples=5,
                  agreement=0.8, confidence=0.736)  # fmt: skip
    assert route_text(route.to_dict()) == (
        "self-consistency, legal, 5 samples, 80% agree, confidence 0.74"
    )
    assert route_text(Route("m", domain="clinical").to_dict()) == "direct, clinical"
    offered = Route("m", frontier_offered=True).to_dict()
    assert route_text(offered).endswith("(frontier offered)")


def test_a_stored_answer_shows_the_same_line_as_a_live_one() -> None:
    route = Route("smollm2", domain="clinical", tier="reasoning", samples=3, agreement=2 / 3)
    meta = {"route": route.to_dict(), "device": "CPU", "tokens": 42, "seconds": 3.25,
            "sources": 2}  # fmt: skip
    line = stored_meta(meta)
    assert line == meta_line("smollm2", "CPU", 42, 3.25, 2, route_text(route.to_dict()))
    assert "3 samples, 67% agree" in line and "2 sources" in line and "42 tokens" in line
