"""The saved review checklists of a workspace (app.library.review.ChecklistStore) and the
pasted-text rules (parse_questions): a real file on disk in the test's folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.errors import EnclaveError
from app.library.review import CHECKLISTS_FILE, ChecklistStore, parse_questions


def test_pasted_text_follows_the_file_rules() -> None:
    text = "\ufeff# due diligence\n  Which law governs?  \n\n#skip\nWho are the parties?\r\n"
    assert parse_questions(text) == ["Which law governs?", "Who are the parties?"]
    assert parse_questions("\n  \n# only a comment\n") == []


def test_saved_checklists_survive_a_new_store_and_keep_their_order(tmp_path: Path) -> None:
    store = ChecklistStore(tmp_path)
    assert store.names() == []
    assert store.save("  Due   diligence ", ["Which law governs?", " ", "What notice?"]) == (
        "Due diligence"
    )
    store.save("chart abstraction", ["What dose?"])
    again = ChecklistStore(tmp_path)
    assert again.names() == ["chart abstraction", "Due diligence"]  # case-insensitive order
    assert again.load("due diligence") == ["Which law governs?", "What notice?"]
    data = json.loads((tmp_path / CHECKLISTS_FILE).read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["checklists"]["Due diligence"]["saved_at"]


def test_saving_under_a_name_in_another_case_replaces_it(tmp_path: Path) -> None:
    store = ChecklistStore(tmp_path)
    store.save("NDA", ["Who is bound?"])
    store.save("nda", ["Who is bound?", "For how long?"])
    assert store.names() == ["nda"]
    assert store.load("NDA") == ["Who is bound?", "For how long?"]
    assert store.exists("Nda") and not store.exists("MSA")


def test_delete(tmp_path: Path) -> None:
    store = ChecklistStore(tmp_path)
    store.save("A", ["q1"])
    store.save("B", ["q2"])
    assert store.delete("a") is True
    assert store.delete("a") is False
    assert store.names() == ["B"]


@pytest.mark.parametrize(
    ("name", "questions", "words"),
    [
        ("", ["q"], "Give the checklist a name."),
        ("   ", ["q"], "Give the checklist a name."),
        ("x" * 81, ["q"], "at most 80 characters"),
        ("empty", [], "holds no question"),
        ("blank", ["  ", ""], "holds no question"),
    ],
)
def test_bad_input_is_one_sentence_and_nothing_is_written(
    tmp_path: Path, name: str, questions: list[str], words: str
) -> None:
    store = ChecklistStore(tmp_path)
    with pytest.raises(EnclaveError, match=words):
        store.save(name, questions)
    assert not (tmp_path / CHECKLISTS_FILE).exists()


def test_an_unknown_name_says_so(tmp_path: Path) -> None:
    with pytest.raises(EnclaveError, match="There is no saved checklist called 'MSA'"):
        ChecklistStore(tmp_path).load("MSA")


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe\x00garbage", b'{"checklists": []}', b'{"checklists": {"a": 3}}'],
)
def test_a_damaged_file_is_reported_and_kept_when_the_next_save_comes(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / CHECKLISTS_FILE
    path.write_bytes(content)
    store = ChecklistStore(tmp_path)
    with pytest.raises(EnclaveError, match="cannot be read"):
        store.names()
    store.save("Fresh", ["What notice?"])
    assert store.names() == ["Fresh"]
    kept = list(tmp_path.glob(f"{CHECKLISTS_FILE}.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == content  # nothing stored is lost


def test_a_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    ChecklistStore(tmp_path).save("A", ["q"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [CHECKLISTS_FILE]
