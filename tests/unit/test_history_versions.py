"""History keeps every version of an answer (Regenerate) and which one is chosen; a history file
from before versions (schema 1) is upgraded in place and loses nothing. Real SQLite on disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.desktop.facade import regenerate_question, transcript
from app.library.history import MIGRATIONS, SCHEMA_1, HistoryStore

CITE = ("c.pdf", "/x/c.pdf", 3, "laws of Delaware", 100, 116, "d:1", 1)


def old_history(path: Path) -> None:
    """A history file as Enclave wrote it before versions: schema 1, written with plain SQL."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_1)
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO conversations VALUES ('c1', 'acme', 'Law?', 't0', 't9')")
    conn.execute("INSERT INTO conversations VALUES ('c2', 'acme', 'Term?', 't0', 't8')")
    rows = [  # id, conversation, seq, role, content, created, meta
        ("u1", "c1", 1, "user", "What is the governing law?", "t1", '{"sent": "S1"}'),
        ("a1", "c1", 2, "assistant", "Delaware [1].", "t2", '{"tokens": 4}'),
        ("u2", "c1", 3, "user", "And the venue?", "t3", "{}"),
        ("a2", "c1", 4, "assistant", "Wilmington.", "t4", "{}"),
        ("a3", "c1", 5, "assistant", "New Castle County.", "t5", "{}"),  # two answers, one question
        ("u3", "c2", 1, "user", "What is the term?", "t6", "{}"),  # never answered
    ]
    conn.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("INSERT INTO citations VALUES ('a1', 1, ?, ?, ?, ?, ?, ?, ?, ?)", CITE)
    conn.commit()
    conn.close()


def test_an_old_history_file_is_upgraded_and_reads_as_version_1_of_1(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    old_history(db)
    store = HistoryStore(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 2
    assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 6  # nothing lost
    assert conn.execute("SELECT COUNT(*) FROM citations").fetchone()[0] == 1
    conn.close()

    msgs = store.messages("c1")
    assert [(m.id, m.turn, m.version, m.versions) for m in msgs] == [
        ("u1", 1, 1, 1), ("a1", 1, 1, 1), ("u2", 2, 1, 1), ("a2", 2, 1, 2),
    ]  # fmt: skip
    assert msgs[0].meta == {"sent": "S1"} and msgs[1].meta == {"tokens": 4}
    assert msgs[1].citations[0].quote == "laws of Delaware" and msgs[1].citations[0].verified
    # The answer shown before the upgrade (the first) is still the one shown; the second kept.
    assert [m.content for m in store.answer_versions("a2")] == ["Wilmington.", "New Castle County."]
    assert [(q, a.content if a else None) for q, a in transcript(store.messages("c2"))] == [
        ("What is the term?", None)
    ]
    assert [c.id for c in store.conversations("acme")] == ["c1", "c2"]

    # A second open (another process, a restart) finds it current and changes nothing.
    store.close()
    again = HistoryStore(db)
    assert [m.id for m in again.messages("c1")] == ["u1", "a1", "u2", "a2"]
    again.close()


def test_an_interrupted_upgrade_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "history.sqlite3"
    old_history(db)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE messages ADD COLUMN turn INTEGER")
        raise OSError("disk full")

    monkeypatch.setattr("app.library.history.MIGRATIONS", [SCHEMA_1, broken])
    with pytest.raises(OSError):
        HistoryStore(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    columns = [r[1] for r in conn.execute("PRAGMA table_info(messages)")]
    assert (
        "turn" not in columns and conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 6
    )
    conn.close()
    monkeypatch.undo()
    assert [m.id for m in HistoryStore(db).messages("c1")] == ["u1", "a1", "u2", "a2"]


def test_regenerate_keeps_every_version_and_remembers_the_chosen_one(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    store = HistoryStore(db)
    conv = store.create_conversation("acme", "Who are the parties?")
    store.add_message(conv.id, "user", "Who are the parties?")
    store.add_message(conv.id, "assistant", "Acme and Beta.")
    store.add_message(conv.id, "user", "What is the term?", meta={"sent": "first"})
    first = store.add_message(conv.id, "assistant", "Five years.")

    # Regenerate: while the question is asked again, the model's earlier turns leave it out.
    assert regenerate_question(store, conv.id) == "What is the term?"
    assert [m.content for m in store.messages(conv.id)] == [
        "Who are the parties?",
        "Acme and Beta.",
    ]
    store.add_message(conv.id, "user", "What is the term?", meta={"sent": "second"})  # ChatService
    second = store.add_message(conv.id, "assistant", "Five (5) years.")
    pairs = transcript(store.messages(conv.id))
    assert [q for q, _ in pairs] == ["Who are the parties?", "What is the term?"]
    shown = pairs[1][1]
    assert shown is not None and shown.id == second.id
    assert (shown.version, shown.versions) == (2, 2)
    assert store.messages(conv.id)[2].meta == {"sent": "second"}  # the question as sent then

    # A third version; then the first is chosen, and stays chosen after a restart.
    assert regenerate_question(store, conv.id) == "What is the term?"
    store.add_message(conv.id, "user", "What is the term?")
    third = store.add_message(conv.id, "assistant", "The term is five years [1].")
    versions = store.answer_versions(third.id)
    assert [(v.id, v.version, v.versions) for v in versions] == [
        (first.id, 1, 3), (second.id, 2, 3), (third.id, 3, 3),
    ]  # fmt: skip
    assert store.answer_versions(first.id) == versions
    store.choose_answer(first.id)
    store.close()
    again = HistoryStore(db)
    msgs = again.messages(conv.id)
    assert [m.content for m in msgs] == [
        "Who are the parties?", "Acme and Beta.", "What is the term?", "Five years.",
    ]  # fmt: skip
    assert (msgs[3].version, msgs[3].versions) == (1, 3)
    assert msgs[2].meta == {"sent": "first"}  # the question of the chosen version
    assert again.answer_versions(msgs[1].id)[0].versions == 1  # the first turn has one

    # A follow-up question is a new turn; the earlier turn keeps its versions and its choice.
    again.add_message(conv.id, "user", "Can it be renewed?")
    again.add_message(conv.id, "assistant", "Yes, for one year.")
    assert [m.turn for m in again.messages(conv.id)] == [1, 1, 2, 2, 3, 3]
    assert again.messages(conv.id)[3].content == "Five years."
    assert len(again.answer_versions(third.id)) == 3
    again.close()


def test_a_regeneration_that_never_answers_loses_nothing(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3")
    conv = store.create_conversation("acme", "What is the term?")
    store.add_message(conv.id, "user", "What is the term?")
    kept = store.add_message(conv.id, "assistant", "Five years.")

    # Refused before the question was stored again (the window cancels).
    regenerate_question(store, conv.id)
    store.cancel_new_version(conv.id)
    assert [m.id for m in store.messages(conv.id)][-1] == kept.id

    # Failed (or the app closed) after the question was stored: the answer is still shown.
    regenerate_question(store, conv.id)
    store.add_message(conv.id, "user", "What is the term?")
    msgs = store.messages(conv.id)
    assert [m.content for m in msgs] == ["What is the term?", "Five years."]
    assert (msgs[1].version, msgs[1].versions) == (1, 1)
    assert HistoryStore(tmp_path / "history.sqlite3").messages(conv.id)[1].id == kept.id

    # Asked again successfully later: version 2 of 2 (the unanswered try is not a version).
    regenerate_question(store, conv.id)
    store.add_message(conv.id, "user", "What is the term?")
    new = store.add_message(conv.id, "assistant", "Five (5) years.")
    assert [(v.content, v.version) for v in store.answer_versions(new.id)] == [
        ("Five years.", 1), ("Five (5) years.", 2),
    ]  # fmt: skip
    assert store.messages(conv.id)[1].id == new.id

    # A question that was never answered can be asked again: one question, one answer.
    store.add_message(conv.id, "user", "Is there a non-compete?")
    assert regenerate_question(store, conv.id) == "Is there a non-compete?"
    store.add_message(conv.id, "user", "Is there a non-compete?")
    store.add_message(conv.id, "assistant", "No.")
    pairs = transcript(store.messages(conv.id))
    assert [q for q, _ in pairs].count("Is there a non-compete?") == 1
    answer = pairs[-1][1]
    assert answer is not None and (answer.content, answer.versions) == ("No.", 1)
    with pytest.raises(Exception, match="no longer in the history"):
        store.choose_answer("not-an-answer")
    store.close()
