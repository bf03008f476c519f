"""The approved frontier model from the window: the review dialog shows exactly what would leave,
with every redaction highlighted and "Don't send" as the default; "Ask frontier…" appears only
where the policy allows it; an approved question is answered by a real OpenAI-compatible server
(llama_cpp.server on loopback) and the privacy indicator then says that something left."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.desktop.facade import OFFLINE_TEXT
from app.frontier.gateway import FrontierGateway
from app.frontier.keys import KeyStore
from app.paths import Paths
from app.privacy.ledger import AuditLedger
from app.privacy.policy import load_policy
from tests.llama_server import llama_server
from tests.ui.window_helpers import ScriptedDialogs
from ui.review_dialog import FrontierReviewDialog

LONG = 300_000
WORKSPACE = "ward-7"
NOTE = (
    "DISCHARGE SUMMARY. Patient: Margaret Ellison, MRN 00482913, DOB 03/14/1952. "
    "Margaret Ellison was treated with ceftriaxone for community-acquired pneumonia. "
    "Her daughter Karen Ellison-Moss can be reached at (617) 555-0143."
)
QUESTION = "Which antibiotic was Margaret Ellison treated with?"
CANARIES = ["Margaret", "Ellison", "00482913", "03/14/1952", "555-0143"]


def _policy(path: Path, base_url: str) -> Path:
    path.write_text(json.dumps({"version": 1, "frontier": {
        "enabled": True, "workspaces": [WORKSPACE], "review_required": True, "max_chunks": 2,
        "endpoints": [{"id": "gateway", "base_url": base_url, "model": "smollm2",
                       "requires_key": False, "label": "Hospital AI gateway"}],
    }}))  # fmt: skip
    return path


def test_the_review_dialog_highlights_every_redaction_and_defaults_to_not_sending(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCLAVE_POLICY", str(_policy(tmp_path / "p.json", "http://127.0.0.1:9/v1")))
    paths = Paths.from_env().ensure()
    service = FrontierGateway(load_policy(paths), KeyStore(), AuditLedger.for_paths(paths))
    request = service.prepare(QUESTION, [NOTE], WORKSPACE)  # prepares only: nothing is sent
    dialog = FrontierReviewDialog(request)
    qtbot.addWidget(dialog)
    shown = dialog.text.toPlainText()
    assert shown == request.display_text
    assert not any(c in shown for c in CANARIES)
    assert dialog.highlighted_texts() == [s.placeholder for s in request.spans]
    assert len(request.spans) >= 5 and "[PERSON_1]" in dialog.highlighted_texts()
    assert "127.0.0.1:9" in dialog.findChildren(type(dialog.summary))[0].text()
    assert dialog.cancel_button.isDefault() and not dialog.send_button.isDefault()
    dialog.show()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter picks the default: do not send
    assert dialog.result() == FrontierReviewDialog.DialogCode.Rejected
    dialog.open()
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == FrontierReviewDialog.DialogCode.Accepted


def test_the_review_dialog_marks_what_was_not_replaced_apart_and_lists_what_was_left_out(
    qtbot: Any,
) -> None:
    from tests.frontier_notes import review_request

    request = review_request(
        "[Source 1]\nPatient: [PERSON_1]. Seen with the nurse Will Treharne; "
        "photo scan_K4471923.png."
    )
    dialog = FrontierReviewDialog(request)
    qtbot.addWidget(dialog)
    assert dialog.highlighted_texts() == ["[PERSON_1]"]
    assert dialog.risk_texts() == ["Will Treharne", "4471923"]  # another colour, underlined
    dialog.show()
    assert dialog.left_out.isVisible() and dialog.check.isVisible()
    assert "note_b.txt (names another patient)" in dialog.left_out.text()
    assert "2 places underlined in red" in dialog.check.text()
    clean = FrontierReviewDialog(review_request("Question: what dose is [PERSON_1] on?"))
    qtbot.addWidget(clean)
    clean.show()
    assert clean.risk_texts() == [] and not clean.check.isVisible()


@pytest.fixture(scope="module")
def gateway(smollm2_path: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])

    def ready() -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/v1/models")
        return conn.getresponse().status == 200

    with llama_server(smollm2_path, "127.0.0.1", port, ready):
        yield f"http://127.0.0.1:{port}/v1"


def test_ask_remote_is_offered_where_allowed_reviewed_sent_and_shown(
    make_window: Any, dialogs: ScriptedDialogs, real_embedder: object, qtbot: Any,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gateway: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("ENCLAVE_POLICY", str(_policy(tmp_path / "policy.json", gateway)))
    note = tmp_path / "discharge.txt"
    note.write_text(NOTE, encoding="utf-8")
    window = make_window(embedder=real_embedder)
    qtbot.waitUntil(lambda: window.warm is not None, timeout=LONG)
    remote = window.chat.frontier_ask
    dialogs.texts.append("Other matter")
    qtbot.mouseClick(window.workspaces.new_button, Qt.MouseButton.LeftButton)
    assert not remote.button.isVisible()  # the policy does not name this workspace
    dialogs.texts.append(WORKSPACE)
    qtbot.mouseClick(window.workspaces.new_button, Qt.MouseButton.LeftButton)
    assert window.workspace.id == WORKSPACE and remote.button.isVisible()
    dialogs.files.append([note])
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=LONG):
        qtbot.mouseClick(window.documents.add_files_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.documents.ingest_task is None, timeout=LONG)

    # Declined: nothing is sent, nothing is answered.
    qtbot.keyClicks(window.chat.composer, QUESTION)
    dialogs.reviews.append(False)
    qtbot.mouseClick(remote.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dialogs.reviewed) == 1 and remote.task is None, timeout=LONG)
    assert window.chat.conversation_id is None
    assert window.status.privacy_text() == OFFLINE_TEXT

    # Approved: the frontier model answers, in the transcript, and the indicator changes.
    dialogs.reviews.append(True)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=LONG) as finished:
        qtbot.mouseClick(remote.button, Qt.MouseButton.LeftButton)
    answer = finished.args[0]
    qtbot.waitUntil(lambda: window.chat.task is None, timeout=LONG)
    reviewed = dialogs.reviewed[-1]
    assert not any(c in reviewed.display_text for c in CANARIES)
    assert answer.route.tier == "frontier" and answer.answer.strip()
    assert "frontier" in window.chat.view.toPlainText()
    qtbot.waitUntil(lambda: window.status.privacy_text() != OFFLINE_TEXT, timeout=10_000)
    assert "left this computer" in window.status.privacy_text()
