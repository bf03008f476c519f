"""The documents view's "Keep this folder in sync" toggle, in a real window (offscreen) on the real
app services (real embedder, chroma and SQLite in the test's ENCLAVE_HOME): files added, changed,
deleted and renamed in the folder follow in the table and in search; turning it off stops it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.ui.window_helpers import ScriptedDialogs

pytestmark = pytest.mark.slow
LONG = 300_000  # ms: this 2-core machine is shared


def names(window: Any) -> set[str]:
    return {d.name for d in window.documents.model.items()}


def found(window: Any, word: str) -> set[str]:
    index = window.enclave.index(window.workspace)
    return {h.document_name for h in index.search(word, k=10, mode="lexical")}


def test_keep_this_folder_in_sync_follows_the_folder_until_turned_off(
    make_window: Any, dialogs: ScriptedDialogs, real_embedder: object, qtbot: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "matter"
    folder.mkdir()
    (folder / "intake.txt").write_text("Intake: the claimant reports quokkarash.\n")
    (folder / "lease.txt").write_text("The numbatorium roof is the landlord's duty.\n")
    window = make_window(embedder=real_embedder)
    dialogs.texts.append("Synced matter")
    qtbot.mouseClick(window.workspaces.new_button, Qt.MouseButton.LeftButton)
    assert window.workspace is not None
    sync = window.documents.sync
    sync.interval_s = 0.3
    assert sync.toggle.isEnabled() and not sync.toggle.isChecked()

    dialogs.folders.append(folder)
    sync.toggle.click()  # as a click or the space key does
    assert sync.toggle.isChecked() and sync.task is not None
    qtbot.waitUntil(lambda: names(window) == {"intake.txt", "lease.txt"}, timeout=LONG)
    qtbot.waitUntil(lambda: sync.status.text().startswith("In sync with matter"), timeout=LONG)

    (folder / "added.txt").write_text("Exhibit on the bilbyfen estate.\n")
    (folder / "intake.txt").write_text("Intake, corrected: the claimant has dingoflu.\n")
    (folder / "lease.txt").rename(folder / "tenancy.txt")
    qtbot.waitUntil(
        lambda: names(window) == {"intake.txt", "added.txt", "tenancy.txt"}, timeout=LONG
    )
    qtbot.waitUntil(lambda: found(window, "dingoflu") == {"intake.txt"}, timeout=LONG)
    assert found(window, "quokkarash") == set()
    assert found(window, "numbatorium") == {"tenancy.txt"}
    assert found(window, "bilbyfen") == {"added.txt"}

    sync.toggle.click()  # off
    assert not sync.toggle.isChecked()
    qtbot.waitUntil(lambda: sync.task is None, timeout=LONG)
    (folder / "late.txt").write_text("Written after the sync was turned off: wallabyum.\n")
    qtbot.wait(1500)  # five rounds' worth: nothing is watching any more
    assert found(window, "wallabyum") == set()
    assert "late.txt" not in names(window)
