"""The window without loading models: workspaces, accessibility, privacy status, errors.

These use the real app services (real registry, history, settings, egress guard) in the test's
own ENCLAVE_HOME; nothing here needs llama.cpp or the embedder (`start()` is not called)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QTabBar,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from app.desktop.facade import OFFLINE_TEXT
from tests.ui.window_helpers import ScriptedDialogs

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QAbstractItemView,
    QComboBox,
    QAbstractSpinBox,
    QProgressBar,
    QTabWidget,
)
COMPOSITE = (QAbstractSpinBox, QComboBox, QAbstractItemView, QTabBar, QLineEdit)


def test_every_control_has_an_accessible_name(make_window: Any, real_embedder: object) -> None:
    window = make_window(start=False, embedder=real_embedder)
    unnamed = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE) or isinstance(widget, QHeaderView):
            continue
        ancestors = []
        parent = widget.parentWidget()
        while parent is not None:
            ancestors.append(parent)
            parent = parent.parentWidget()
        if type(widget).__name__ == "QScrollBar" or any(
            isinstance(a, COMPOSITE) for a in ancestors
        ):
            continue  # the inner parts of a named composite control (a combo box's popup...)
        if not widget.accessibleName().strip():
            where = " < ".join(type(a).__name__ for a in ancestors)
            unnamed.append(f"{type(widget).__name__} (in {where}) text={_text(widget)}")
    assert not unnamed, "controls without an accessible name:\n" + "\n".join(unnamed)


def _text(widget: QWidget) -> str:
    return repr(getattr(widget, "text", lambda: "")())


def test_first_run_has_a_workspace_and_the_privacy_indicator_reads_the_app(
    make_window: Any,
    real_embedder: object,
) -> None:
    window = make_window(start=False, embedder=real_embedder)
    window.workspaces.load()
    assert window.workspace is not None  # a question can be asked at once, no wizard
    window.refresh_privacy()
    assert window.status.privacy_text() == OFFLINE_TEXT
    assert "egress guard" in window.status.privacy.toolTip()
    ledger = __import__("app.privacy.ledger", fromlist=["AuditLedger"]).AuditLedger
    ledger.for_paths(window.enclave.paths).record(
        kind="frontier_call", destination="api.example.org:443", allowed=True
    )
    window.refresh_privacy()
    assert window.status.privacy_text() != OFFLINE_TEXT
    assert "api.example.org:443" in window.status.privacy_text()


def test_create_rename_and_delete_a_workspace_with_a_confirmation_that_names_it(
    make_window: Any, real_embedder: object, dialogs: ScriptedDialogs, qtbot: Any
) -> None:
    window = make_window(start=False, embedder=real_embedder)
    window.workspaces.load()
    dialogs.texts.append("Smith v. Jones")
    qtbot.mouseClick(window.workspaces.new_button, Qt.MouseButton.LeftButton)
    assert window.workspace.name == "Smith v. Jones"
    assert window.windowTitle().startswith("Smith v. Jones")
    window.enclave.history.create_conversation(window.workspace.id, "Deposition dates")

    dialogs.texts.append("Smith v. Jones (appeal)")
    qtbot.mouseClick(window.workspaces.rename_button, Qt.MouseButton.LeftButton)
    assert window.workspace.name == "Smith v. Jones (appeal)"
    assert "Smith v. Jones (appeal)" in [w.name for w in window.workspaces.model.items()]

    dialogs.confirms.append(False)  # "Cancel": nothing is deleted
    qtbot.mouseClick(window.workspaces.delete_button, Qt.MouseButton.LeftButton)
    title, text = dialogs.asked[-1]
    assert title == "Delete workspace"
    assert "'Smith v. Jones (appeal)'" in text and "1 conversation" in text
    assert "original files are not touched" in text
    ws_id = window.workspace.id
    assert window.enclave.workspaces.exists(ws_id)

    dialogs.confirms.append(True)
    qtbot.mouseClick(window.workspaces.delete_button, Qt.MouseButton.LeftButton)
    assert not window.enclave.workspaces.exists(ws_id)
    names = [w.name for w in window.workspaces.model.items()]
    assert "Smith v. Jones (appeal)" not in names
    assert window.workspace is not None and window.workspace.name in names
    assert "Deleted the workspace" in window.message_bar.text()


def test_a_refused_action_shows_a_sentence_not_a_traceback(
    make_window: Any, real_embedder: object, dialogs: ScriptedDialogs, qtbot: Any
) -> None:
    window = make_window(start=False, embedder=real_embedder)
    window.workspaces.load()
    dialogs.texts.append("!!!")
    qtbot.mouseClick(window.workspaces.new_button, Qt.MouseButton.LeftButton)
    shown = window.message_bar.text()
    assert "not a usable workspace name" in shown
    assert "Traceback" not in shown and "Error" not in shown
