"""The window a person works in all day (issue 15) and answers with their evidence (issue 11),
on the real window with the real app services (registry, history, index with the real
embedder) in the test's own ENCLAVE_HOME. The model is not loaded here, except in the one test
marked slow (a real SmolLM2 answer, then Regenerate)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication

from app.desktop.facade import Citation
from tests.ui.window_helpers import ScriptedDialogs, click_anchor, close_window
from ui.answer_line import progress_text
from ui.chat_panel import documents_folder, export_name

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
NOTE = EVAL / "clinical" / "notes" / "bladder-cancer.txt"
QUESTION = "What dose of metoprolol is the patient on?"
QUOTE = "Metoprolol 100 mg b.i.d."
LONG = 300_000  # ms: generous, this machine is shared


@pytest.fixture(autouse=True)
def _note(eval_dir: Path) -> None:
    if not NOTE.exists():
        pytest.skip(f"missing evaluation file {NOTE}")


def ingest(qtbot: Any, window: Any, *paths: Path) -> Any:
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=LONG) as done:
        window.add_documents(list(paths))
    qtbot.waitUntil(lambda: window.documents.ingest_task is None, timeout=LONG)
    return done.args[0]


def clinic(qtbot: Any, window: Any, dialogs: ScriptedDialogs) -> Any:
    """A workspace "Clinic" (made with the New button) with the clinical note in it."""
    window.workspaces.load()
    dialogs.texts.append("Clinic")
    qtbot.mouseClick(window.workspaces.new_button, Qt.MouseButton.LeftButton)
    assert window.workspace.name == "Clinic"
    assert ingest(qtbot, window, NOTE).counts == {"indexed": 1}
    return window.workspace


def store_answer(window: Any) -> tuple[str, str]:
    """An evidence-only answer as ChatService stores it, quoting the note's real line 14."""
    ws = window.workspace
    index = window.enclave.index(ws)
    hit = next(h for h in index.search("Metoprolol 100 mg b.i.d.", k=5) if QUOTE in h.chunk.text)
    chunk = hit.chunk
    start = chunk.start + chunk.text.index(QUOTE)
    end = start + len(QUOTE)
    assert NOTE.read_text(encoding="utf-8")[start:end] == QUOTE
    line = index.line_of(chunk.document_id, start)
    evidence = {
        "n": 1, "document": NOTE.name, "path": hit.path, "page": chunk.page, "line": line,
        "quote": QUOTE, "start": start, "end": end, "chunk_id": chunk.id, "score": 0.9,
    }  # fmt: skip
    citation = Citation(1, NOTE.name, hit.path, chunk.page, QUOTE, start, end, chunk.id, True, True)
    history = window.enclave.history
    conv = history.create_conversation(ws.id, QUESTION)
    history.add_message(conv.id, "user", QUESTION)
    stored = history.add_message(
        conv.id, "assistant", f"\u201c{QUOTE}\u201d [1]",
        meta={"evidence": [evidence], "evidence_only": True, "tokens": 12, "seconds": 1.5,
              "notices": ["Left out of the answer: a sentence the note does not state."],
              "route": {"model_id": "smollm2-135m-instruct", "tier": "direct"}},
        citations=[citation],
    )  # fmt: skip
    window.conversations.refresh()
    return conv.id, stored.id


def test_a_reopened_answer_shows_its_evidence_at_its_line_and_the_window_reopens_there(
    make_window: Any, real_embedder: object, dialogs: ScriptedDialogs, qtbot: Any,
    tmp_path: Path, opened_urls: list[Any],
) -> None:  # fmt: skip
    window = make_window(start=False, embedder=real_embedder)
    ws = clinic(qtbot, window, dialogs)
    conv_id, key = store_answer(window)
    rect = window.conversations.list.visualRect(window.conversations.model.index(0, 0))
    qtbot.mouseClick(window.conversations.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())  # fmt: skip
    assert window.chat.conversation_id == conv_id

    # The evidence block first, the quote once (evidence-only: not repeated), then the notice.
    text = window.chat.view.toPlainText()
    assert text.count(QUOTE) == 1
    assert "[1] bladder-cancer.txt, line 14" in text
    assert text.index("From your documents") < text.index(QUOTE) < text.index("Left out of")

    # Clicking it opens the citation panel at the line, highlighted, and says where the file is.
    click_anchor(qtbot, window.chat.view, f"evid:{key}:1")
    qtbot.waitUntil(lambda: window.citations.passage is not None, timeout=LONG)
    assert window.tabs.currentWidget() is window.citations
    assert window.citations.where.text() == f"Line 14 · the file is at {NOTE.resolve()}"
    assert window.citations.highlighted_text() == QUOTE
    assert window.citations.open_button.text() == "Open file"
    qtbot.mouseClick(window.citations.open_button, Qt.MouseButton.LeftButton)
    assert opened_urls[-1].toLocalFile() == str(NOTE.resolve()) and not opened_urls[-1].fragment()
    assert "line 14" in window.message_bar.text()

    # Copy confirms; export suggests the documents folder, the title and the date.
    qtbot.mouseClick(window.chat.copy_button, Qt.MouseButton.LeftButton)
    assert window.chat.copy_button.text() == "Copied"
    assert QUOTE in QGuiApplication.clipboard().text()
    assert window.message_bar.text().startswith("Copied")
    dialogs.save_targets.append(tmp_path / "out.md")
    assert window.chat.export("md") == tmp_path / "out.md"
    suggested = Path(dialogs.asked[-1][1])
    assert suggested.parent == documents_folder()
    assert suggested.name == f"What dose of metoprolol is the patient on {date.today()}.md"

    # A new window on the same folders opens the same workspace, conversation and side tab.
    window.tabs.setCurrentWidget(window.models)
    close_window(window)
    again = make_window(start=False, embedder=real_embedder)
    again.workspaces.load()
    assert again.workspace.id == ws.id
    assert again.chat.conversation_id == conv_id and QUOTE in again.chat.view.toPlainText()
    assert again.conversations.current_id() == conv_id
    assert again.tabs.currentWidget() is again.models

    # Away to another workspace and back: its conversation is open again.
    other = next(w for w in again.workspaces.model.items() if w.id != ws.id)
    again.workspaces.select(other.id)
    assert again.chat.conversation_id is None
    again.workspaces.select(ws.id)
    assert again.chat.conversation_id == conv_id


def test_empty_states_match_the_workspace_and_messages_never_move_the_layout(
    make_window: Any, real_embedder: object, dialogs: ScriptedDialogs, qtbot: Any
) -> None:
    window = make_window(start=False, embedder=real_embedder)
    window.workspaces.load()
    qtbot.waitUntil(lambda: window.chat.document_count is not None, timeout=LONG)
    assert "Add documents to this workspace" in window.chat.view.toPlainText()
    clinic(qtbot, window, dialogs)
    qtbot.waitUntil(lambda: window.chat.document_count == 1, timeout=LONG)
    text = window.chat.view.toPlainText()
    assert "Ask a question about the 1 document in Clinic" in text
    assert "Add documents" not in text

    before = window.splitter.geometry()
    window.show_message("The documents could not be read: a test error.")
    QCoreApplication.processEvents()
    assert window.message_bar.isVisible()
    assert window.splitter.geometry() == before  # it floats over the content
    assert window.message_bar.geometry().intersects(window.splitter.geometry())
    qtbot.mouseClick(window.message_bar.close_button, Qt.MouseButton.LeftButton)
    assert not window.message_bar.isVisible() and window.splitter.geometry() == before


def test_at_1024x700_the_chat_keeps_half_the_width_and_long_titles_elide(
    make_window: Any, real_embedder: object, qtbot: Any
) -> None:
    window = make_window(start=False, embedder=real_embedder)
    window.workspaces.load()
    window.resize(1024, 700)
    QCoreApplication.processEvents()
    assert window.width() == 1024
    assert window.chat.width() >= window.width() / 2
    assert window.workspaces.isVisible() and window.conversations.isVisible()
    long_title = "What are all the medications, doses and allergies " * 4
    window.chat.title.setText(long_title)
    assert window.chat.title.elided() and window.chat.title.toolTip() == long_title
    # A citation (or an added document) brings a collapsed side panel back.
    window.splitter.setSizes([200, 824, 0])
    assert window.side_panel_collapsed()
    window.show_side_panel()
    assert not window.side_panel_collapsed() and window.chat.width() >= window.width() / 2
    window.resize(1440, 900)
    QCoreApplication.processEvents()
    assert window.chat.width() >= window.width() / 2


def test_export_names_are_sanitised_and_progress_shows_seconds_then_tokens_per_second() -> None:
    day = date(2026, 3, 4)
    assert export_name("../../etc/passwd", day, ".md") == "etc passwd 2026-03-04.md"
    assert export_name('a<b>:c"d|e?f*\x00\u202eg', day, ".html") == "a b c d e f g 2026-03-04.html"
    assert export_name("   ", day, ".md") == "Conversation 2026-03-04.md"
    waiting = progress_text(3.2, stage="Searching your documents…")
    assert waiting == "Searching your documents… · 3 s"
    line = progress_text(12.3, 48, 6.0, "Writing the answer…")
    assert line == "Writing the answer… · 12 s · 48 tokens · 8.0 tokens/s"


def links(view: Any) -> set[str]:
    """Every link target in the transcript (an answer's links carry its stored id)."""
    found = set()
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            href = it.fragment().charFormat().anchorHref()
            if href:
                found.add(href)
            it += 1
        block = block.next()
    return found


@pytest.mark.slow
def test_a_live_answer_shows_evidence_progress_and_regenerate_keeps_its_versions_after_a_restart(
    make_window: Any, real_embedder: object, dialogs: ScriptedDialogs, qtbot: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    window = make_window(embedder=real_embedder)
    qtbot.waitUntil(lambda: window.warm is not None, timeout=LONG)
    clinic(qtbot, window, dialogs)
    lines: list[str] = []
    window.chat.token_received.connect(lambda _t: lines.append(window.chat.view.stream_status()))
    answers: list[Any] = []
    window.chat.answer_finished.connect(answers.append)
    qtbot.keyClicks(window.chat.composer, QUESTION)
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(answers) and window.chat.task is None, timeout=LONG)
    first = answers[0]
    assert first.evidence and any("Metoprolol 100 mg" in q.quote for q in first.evidence)
    text = window.chat.view.toPlainText()
    q = first.evidence[0]
    assert " ".join(q.quote.split()) in text and f"[1] {NOTE.name}, {q.where()}" in text
    assert not lines or all(" s · " in line and "token" in line for line in lines)
    assert not any(h.startswith("ver:") for h in links(window.chat.view))  # one: no arrows

    # Regenerate: the new answer is 2 of 2, the first is kept; back to 1 of 2 with the mouse.
    qtbot.mouseClick(window.chat.regenerate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(answers) == 2 and window.chat.task is None, timeout=LONG)
    second = answers[1]
    view = window.chat.view
    assert "2 of 2" in view.toPlainText()
    assert f"ver:{second.message_id}:-1" in links(view)
    assert [v.key for v in window.chat.versions()] == [first.message_id, second.message_id]
    click_anchor(qtbot, view, f"ver:{second.message_id}:-1")
    assert window.chat.shown_version() == 1 and "1 of 2" in view.toPlainText()
    assert f"ver:{first.message_id}:1" in links(view)  # the first version, with "later ›"
    assert not any(second.message_id in href for href in links(view))
    assert view.toPlainText().count(QUESTION) == 1
    conv_id = first.conversation_id

    # A real restart: a new window on the same ENCLAVE_HOME reopens the conversation with
    # both versions and the chosen one (the first) shown.
    close_window(window)
    again = make_window(start=False, embedder=real_embedder)
    again.workspaces.load()
    assert again.chat.conversation_id == conv_id
    view = again.chat.view
    text = view.toPlainText()
    assert "1 of 2" in text and "2 of 2" not in text and text.count(QUESTION) == 1
    assert f"ver:{first.message_id}:1" in links(view)
    assert [v.key for v in again.chat.versions()] == [first.message_id, second.message_id]
    assert again.chat.shown_version() == 1

    # Export writes the chosen version and says which; then the second is chosen and exported,
    # by the window and by `enclave conversations export` (the choice is in history).
    dialogs.save_targets += [tmp_path / "first.md", tmp_path / "second.md"]
    first_md = again.chat.export("md")
    assert first_md is not None
    md = first_md.read_text(encoding="utf-8")
    stored = again.enclave.history.answer_versions(first.message_id)
    assert "## Answer (version 1 of 2)" in md and md.count("## Answer") == 1
    assert f"{stored[0].meta['seconds']:.1f} s" in md and " ".join(q.quote.split()) in md
    click_anchor(qtbot, view, f"ver:{first.message_id}:1")
    assert again.chat.shown_version() == 2 and "2 of 2" in view.toPlainText()
    second_md = again.chat.export("md")
    assert second_md is not None
    md = second_md.read_text(encoding="utf-8")
    assert "## Answer (version 2 of 2)" in md and md.count("## Answer") == 1
    assert f"{stored[1].meta['seconds']:.1f} s" in md
    messages = again.enclave.history.messages(conv_id)
    assert [m.id for m in messages if m.role == "assistant"] == [second.message_id]

    from app.cli import main

    close_window(again)
    out = tmp_path / "cli.md"
    handlers = list(logging.getLogger("app").handlers)
    try:
        assert main(["conversations", "export", conv_id, "-o", str(out)]) == 0
    finally:
        for handler in logging.getLogger("app").handlers[:]:  # the log file main opened
            if handler not in handlers:
                logging.getLogger("app").removeHandler(handler)
                handler.close()
    assert "## Answer (version 2 of 2)" in out.read_text(encoding="utf-8")
