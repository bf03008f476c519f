"""app.desktop.facade: the privacy indicator reads the guard and the ledger; transcripts and
regeneration from the real history store; the citation passage from a real index."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.container import Enclave
from app.desktop.facade import OFFLINE_TEXT, privacy_status, regenerate_question, transcript
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


def test_regenerate_drops_the_last_exchange_so_the_question_is_stored_once() -> None:
    enclave = Enclave()
    history = enclave.history
    conv = history.create_conversation("ws", "What is the term?")
    history.add_message(conv.id, "user", "Who are the parties?")
    history.add_message(conv.id, "assistant", "Acme and Beta.")
    history.add_message(conv.id, "user", "What is the term?")
    history.add_message(conv.id, "assistant", "Five years.")
    assert regenerate_question(history, conv.id) == "What is the term?"
    kept = [m.content for m in history.messages(conv.id)]
    assert kept == ["Who are the parties?", "Acme and Beta."]
    history.add_message(conv.id, "user", "What is the term?")  # as ChatService stores it again
    history.add_message(conv.id, "assistant", "Five (5) years.")
    assert [m.role for m in history.messages(conv.id)] == ["user", "assistant"] * 2
    pairs = transcript(history.messages(conv.id))
    assert [q for q, _ in pairs] == ["Who are the parties?", "What is the term?"]
    assert pairs[1][1] is not None and pairs[1][1].content == "Five (5) years."
    # A question that was never answered (the app was closed) can be asked again too.
    history.add_message(conv.id, "user", "Is there a non-compete?")
    assert regenerate_question(history, conv.id) == "Is there a non-compete?"
    assert len(history.messages(conv.id)) == 4
    enclave.close()


def test_an_old_duplicate_question_is_shown_once() -> None:
    enclave = Enclave()
    history = enclave.history
    conv = history.create_conversation("ws", "What is the term?")
    history.add_message(conv.id, "user", "What is the term?")
    history.add_message(conv.id, "user", "What is the term? ")
    history.add_message(conv.id, "assistant", "Five (5) years.")
    assert len(transcript(history.messages(conv.id))) == 1
    enclave.close()


def test_a_worker_that_cannot_start_is_reported_in_words() -> None:
    import sys

    from app.desktop.facade import WorkerProcessError
    from app.desktop.worker import WorkerClient

    with pytest.raises(WorkerProcessError, match="stopped unexpectedly"):
        WorkerClient([sys.executable, "-c", "raise SystemExit(3)"])
