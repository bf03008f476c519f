from __future__ import annotations

from pathlib import Path

import pytest

from app.library.history import HistoryStore
from app.library.workspaces import WorkspaceError, WorkspaceRegistry, workspace_id_for
from rag.types import Citation


def test_workspace_ids_are_folder_safe() -> None:
    assert workspace_id_for("ACME v. Smith (2024)") == "acme-v-smith-2024"
    with pytest.raises(WorkspaceError, match="not a usable"):
        workspace_id_for("../..")


def test_create_list_rename_delete(tmp_path: Path) -> None:
    reg = WorkspaceRegistry(tmp_path)
    reg.create("ACME")
    reg.create("Patient 12")
    assert [w.name for w in reg.list()] == ["ACME", "Patient 12"]
    with pytest.raises(WorkspaceError, match="already exists"):
        reg.create("acme")
    renamed = reg.rename("acme", "ACME Corp matter")
    assert renamed.id == "acme" and reg.get("acme").name == "ACME Corp matter"
    reg.delete("acme")
    assert [w.id for w in reg.list()] == ["patient-12"]
    with pytest.raises(WorkspaceError, match="no workspace called 'acme'"):
        reg.get("acme")


def test_history_persists_conversations_with_citations(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    store = HistoryStore(db)
    conv = store.create_conversation("acme", "What is the governing law?")
    store.add_message(conv.id, "user", "What is the governing law?")
    cite = Citation(1, "c.pdf", "/x/c.pdf", 3, "laws of Delaware", 100, 116, "d:1", True)
    store.add_message(conv.id, "assistant", "Delaware [1].", meta={"model": "m"}, citations=[cite])
    store.close()

    again = HistoryStore(db)
    assert [c.title for c in again.conversations("acme")] == ["What is the governing law?"]
    msgs = again.messages(conv.id)
    assert [m.role for m in msgs] == ["user", "assistant"]
    assert msgs[1].citations == [cite] and msgs[1].meta == {"model": "m"}
    assert again.search("acme", "delaware")[0].id == conv.id
    assert again.search("other-workspace", "delaware") == []
    again.delete_last_assistant_message(conv.id)
    assert [m.role for m in again.messages(conv.id)] == ["user"]
    again.delete_workspace("acme")
    assert again.conversations("acme") == []
