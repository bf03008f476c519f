"""Versions of an answer in the real window (offscreen) without loading the model: the versions
are stored as ChatService stores them (the real history in the test's ENCLAVE_HOME); the window
shows them from history, switches with the mouse, remembers the choice across a restart, and a
Regenerate that is stopped before the model is ready loses nothing. The live path (the real
model answering twice) is in test_window_day.py."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app.desktop.facade import regenerate_question
from tests.ui.window_helpers import click_anchor, close_window

QUESTION = "How long is the lease?"


def stored_versions(qtbot: Any, window: Any) -> tuple[str, list[str]]:
    """A conversation whose last question was answered twice (Regenerate), in the window's
    own history, opened in the window."""
    ws = window.enclave.workspaces.create("Lease matter")
    history = window.enclave.history
    conv = history.create_conversation(ws.id, QUESTION)
    history.add_message(conv.id, "user", "Who is the landlord?")
    history.add_message(conv.id, "assistant", "Acme Properties.")
    ids = []
    for n, text in enumerate(("The lease runs for five years.", "It ends on 1 May 2030.")):
        if n:
            assert regenerate_question(history, conv.id) == QUESTION
        history.add_message(conv.id, "user", QUESTION)
        ids.append(history.add_message(conv.id, "assistant", text).id)
    window.workspaces.load()
    window.workspaces.select(ws.id)
    window.conversations.refresh()
    rect = window.conversations.list.visualRect(window.conversations.model.index(0, 0))
    qtbot.mouseClick(window.conversations.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())  # fmt: skip
    assert window.chat.conversation_id == conv.id
    return conv.id, ids


def test_versions_come_from_history_switch_with_the_mouse_and_survive_a_restart(
    make_window: Any, qtbot: Any
) -> None:
    window = make_window(start=False)
    conv_id, (first, second) = stored_versions(qtbot, window)
    view = window.chat.view
    text = view.toPlainText()
    assert "2 of 2" in text and "It ends on 1 May 2030." in text and "five years" not in text
    assert text.count("‹ earlier") == 1  # the first question has one answer: no arrows

    click_anchor(qtbot, view, f"ver:{second}:-1")
    text = view.toPlainText()
    assert "1 of 2" in text and "five years" in text and "2030" not in text
    assert text.count(QUESTION) == 1 and "Acme Properties." in text
    assert window.enclave.history.messages(conv_id)[-1].id == first  # chosen, on disk
    qtbot.mouseClick(window.chat.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "The lease runs for five years."

    close_window(window)
    again = make_window(start=False)
    again.workspaces.load()
    assert again.chat.conversation_id == conv_id  # the window reopens where it was
    text = again.chat.view.toPlainText()
    assert "1 of 2" in text and "five years" in text and "2030" not in text
    click_anchor(qtbot, again.chat.view, f"ver:{first}:1")
    assert "2 of 2" in again.chat.view.toPlainText() and again.chat.shown_version() == 2


def test_a_regenerate_stopped_before_the_model_is_ready_keeps_the_versions(
    make_window: Any, qtbot: Any
) -> None:
    window = make_window(start=False)  # the model is never loaded: the question waits
    conv_id, (first, second) = stored_versions(qtbot, window)
    qtbot.mouseClick(window.chat.regenerate_button, Qt.MouseButton.LeftButton)
    assert window.chat.answering
    assert "Waiting for the model" in window.chat.view.toPlainText()
    assert "2030" not in window.chat.view.toPlainText()  # the turn is being asked again
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)  # Stop
    assert not window.chat.answering
    window.chat.open_conversation(conv_id)
    text = window.chat.view.toPlainText()
    assert "2 of 2" in text and "2030" in text and text.count(QUESTION) == 1
    history = window.enclave.history
    assert [m.id for m in history.messages(conv_id)][-1] == second
    assert [v.id for v in history.answer_versions(second)] == [first, second]
