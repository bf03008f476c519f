"""The window with the team's inference server in the policy: a real `python -m llama_cpp.server`
behind a streaming proxy (tests/streaming_proxy.py), the real app services, the window's own
actions. A clinical question is answered by the server; Stop (Esc) ends its answer with no
fallback; once the server is killed, the local model answers and the transcript says so."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.streaming_proxy import StreamingProxy, served, start_proxy
from tests.ui.window_helpers import ScriptedDialogs, real_services_missing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(real_services_missing() is not None, reason=str(real_services_missing())),
]

LONG = 300_000  # ms: generous, this 2-core machine is shared
NOTE = (
    "Discharge summary. The patient was admitted with a deep vein thrombosis of the left leg. "
    "Enoxaparin 80 mg was given subcutaneously every 12 hours, then warfarin was started with a "
    "target INR of 2 to 3. The patient has a documented allergy to penicillin."
)
QUESTION = "What dose of enoxaparin was given to the patient?"


def _send(qtbot: Any, window: Any, question: str, stop_at_first_token: bool = False) -> Any:
    tokens: list[str] = []
    answers: list[Any] = []
    window.chat.token_received.connect(tokens.append)
    window.chat.answer_finished.connect(answers.append)
    qtbot.keyClicks(window.chat.composer, question)
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)
    if stop_at_first_token:
        qtbot.waitUntil(lambda: bool(tokens) or bool(answers), timeout=LONG)
        qtbot.keyClick(window.chat.composer, Qt.Key.Key_Escape)  # the window's Stop
    qtbot.waitUntil(lambda: bool(answers) and window.chat.task is None, timeout=LONG)
    window.chat.token_received.disconnect(tokens.append)
    window.chat.answer_finished.disconnect(answers.append)
    return answers[0]


def test_the_window_answers_from_the_team_server_stops_it_and_shows_the_fallback(
    make_window: Any, dialogs: ScriptedDialogs, real_embedder: object, qtbot: Any,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smollm2_path: Path,
) -> None:  # fmt: skip
    note = tmp_path / "discharge.txt"
    note.write_text(NOTE, encoding="utf-8")
    with served(smollm2_path) as team:
        slow = StreamingProxy(upstream=team.upstream, delay_s=0.2, add_key=True)
        proxy = start_proxy(slow)
        host = f"127.0.0.1:{slow.port}"
        policy = tmp_path / "policy.json"
        policy.write_text(json.dumps({"version": 1, "inference_servers": [{
            "id": "team", "base_url": slow.base_url, "model": "smollm2",
            "domains": ["clinical"], "connect_timeout_s": 3, "read_timeout_s": 30,
        }]}))  # fmt: skip
        monkeypatch.setenv("ENCLAVE_POLICY", str(policy))
        window = make_window(embedder=real_embedder)
        try:
            dialogs.texts.append("Ward 7")
            qtbot.mouseClick(window.workspaces.new_button, Qt.MouseButton.LeftButton)
            dialogs.files.append([note])
            with qtbot.waitSignal(window.documents.ingest_finished, timeout=LONG):
                qtbot.mouseClick(window.documents.add_files_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: window.documents.ingest_task is None, timeout=LONG)

            # 1. answered by the team's server, shown with its evidence
            answer = _send(qtbot, window, QUESTION)
            assert answer.route.model_id == "team" and answer.route.server == host
            assert answer.device == f"inference server {host}" and len(slow.bodies) == 1
            assert answer.evidence and "Enoxaparin 80 mg" in answer.evidence[0].quote
            assert f"inference server {host}" in window.chat.view.toPlainText()

            # 2. Stop (Esc) while the server streams: stopped, and no fallback
            stopped = _send(qtbot, window, QUESTION, stop_at_first_token=True)
            assert stopped.cancelled and stopped.route.model_id == "team"
            assert not any("local model" in n for n in stopped.notices)
            assert "Stopped before the end." in window.chat.view.toPlainText()
            assert window.chat.send_button.text() == "Send"

            # 3. the server dies: the local model answers, and the transcript says why
            assert team.process is not None
            os.kill(team.process.pid, signal.SIGKILL)
            team.process.wait()
            fallback = _send(qtbot, window, QUESTION)
            notice = (
                "The team's inference server at 127.0.0.1 did not answer; answered by the "
                "local model"
            )
            assert fallback.notices and fallback.notices[0].startswith(notice)
            assert fallback.device == "CPU" and fallback.evidence
            assert notice in " ".join(window.chat.view.toPlainText().split())
        finally:
            proxy.shutdown()
            proxy.server_close()
