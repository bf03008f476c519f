"""app.desktop: the privacy indicator reads the guard and the ledger; transcripts and
regeneration from the real history store; the citation passage from a real index."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.container import Enclave
from app.desktop import OFFLINE_TEXT, privacy_status, regenerate_question, transcript
from app.privacy.egress import GUARD


def test_offline_status_comes_from_the_guard_and_changes_after_an_outbound_call(
    tmp_path: Path,
) -> None:
    enclave = Enclave()
    status = privacy_status(enclave)
    assert GUARD.installed
    assert status.text == OFFLINE_TEXT and not status.left_computer and status.guard_on
    ledger_mod = pytest.importorskip("app.privacy.ledger")
    ledger = ledger_mod.AuditLedger.for_paths(enclave.paths)
    ledger.record(kind="frontier_call", destination="api.example.com:443", allowed=True)
    status = privacy_status(enclave)
    assert status.left_computer
    assert "api.example.com:443" in status.text and status.text != OFFLINE_TEXT
    enclave.close()


def test_the_indicator_says_so_while_an_approved_call_is_open() -> None:
    enclave = Enclave()
    with GUARD.allow("127.0.0.2", 9):
        status = privacy_status(enclave)
    assert status.left_computer and "Sending now" in status.text
    assert privacy_status(enclave).text == OFFLINE_TEXT
    enclave.close()


def test_regenerate_drops_the_last_answer_and_the_transcript_shows_the_question_once() -> None:
    enclave = Enclave()
    history = enclave.history
    conv = history.create_conversation("ws", "What is the term?")
    history.add_message(conv.id, "user", "What is the term?")
    history.add_message(conv.id, "assistant", "Five years.")
    assert regenerate_question(history, conv.id) == "What is the term?"
    assert [m.role for m in history.messages(conv.id)] == ["user"]
    history.add_message(conv.id, "user", "What is the term? ")  # as ChatService stores it again
    history.add_message(conv.id, "assistant", "Five (5) years.")
    pairs = transcript(history.messages(conv.id))
    assert len(pairs) == 1
    assert pairs[0][1] is not None and pairs[0][1].content == "Five (5) years."
    enclave.close()


@pytest.mark.slow
def test_the_process_embedder_gives_the_same_vectors_as_the_in_process_one(
    real_embedder: object,
) -> None:
    from app.desktop import ProcessEmbedder

    texts = ["The term of this Agreement is five (5) years.", "Patient denies chest pain."]
    child = ProcessEmbedder()
    try:
        assert child.name == real_embedder.name  # type: ignore[attr-defined]
        assert child.dimension == real_embedder.dimension  # type: ignore[attr-defined]
        got = child.embed(texts)
        want = real_embedder.embed(texts)  # type: ignore[attr-defined]
        assert len(got) == 2 and len(got[0]) == child.dimension
        for a, b in zip(got, want, strict=True):
            assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5
        assert child.embed([]) == []
    finally:
        child.close()
    assert child._proc.poll() is not None  # the child has exited


def test_a_child_that_cannot_start_is_reported_in_words() -> None:
    import sys

    from app.desktop import EmbedderProcessError, ProcessEmbedder

    with pytest.raises(EmbedderProcessError, match="stopped unexpectedly"):
        ProcessEmbedder([sys.executable, "-c", "raise SystemExit(3)"])
