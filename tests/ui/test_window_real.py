"""The window with the real app services: real SmolLM2 (llama.cpp), real embedder, real chroma
and SQLite in the test's ENCLAVE_HOME, real CUAD contracts. Everything is done through the
window's own actions (buttons, keys, scripted file dialogs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import QAbstractItemView

from tests.ui.window_helpers import ScriptedDialogs, close_window, real_services_missing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(real_services_missing() is not None, reason=str(real_services_missing())),
]

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
CONTRACT = (
    EVAL / "cuad" / "contracts" / "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.txt"
)
BROKEN_PDF = EVAL / "docs" / "pdf" / "malformed" / "invalid.pdf"
LOCKED_PDF = EVAL / "docs" / "pdf" / "encrypted" / "libreoffice-writer-password.pdf"
QUESTION = "What is the term of the consulting agreement?"
LONG_QUESTION = "Describe in detail every obligation of the consultant under this agreement."
LONG = 300_000  # ms: generous, this 2-core machine is shared


@pytest.fixture(autouse=True)
def _eval_files(eval_dir: Path) -> None:
    for path in (CONTRACT, BROKEN_PDF, LOCKED_PDF):
        if not path.exists():
            pytest.skip(f"missing evaluation file {path}")


def click(qtbot: Any, widget: Any) -> None:
    assert widget.isEnabled(), f"{widget.accessibleName()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_row(qtbot: Any, view: QAbstractItemView, row: int) -> None:
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def click_anchor(qtbot: Any, view: Any, href: str) -> None:
    """Click, with the mouse, the first link to `href` in a QTextBrowser."""
    doc = view.document()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.charFormat().anchorHref() == href:
                cursor = QTextCursor(doc)
                cursor.setPosition(frag.position() + min(1, frag.length() - 1))
                view.ensureCursorVisible()
                rect = view.cursorRect(cursor)
                pos = QPoint(rect.center().x(), rect.center().y())
                qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
                return
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href} in the transcript")


def add_files(qtbot: Any, window: Any, dialogs: ScriptedDialogs, *paths: Path) -> Any:
    dialogs.files.append(list(paths))
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=LONG) as done:
        click(qtbot, window.documents.add_files_button)
    qtbot.waitUntil(lambda: window.documents.ingest_task is None, timeout=LONG)
    return done.args[0]


def ask(qtbot: Any, window: Any, question: str) -> Any:
    answers: list[Any] = []
    window.chat.answer_finished.connect(answers.append)
    qtbot.keyClicks(window.chat.composer, question)
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(answers) and window.chat.task is None, timeout=LONG)
    window.chat.answer_finished.disconnect(answers.append)
    return answers[0]


def test_a_matter_from_first_document_to_cited_answer_and_back_after_a_restart(
    make_window: Any, dialogs: ScriptedDialogs, real_embedder: object, qtbot: Any,
    opened_urls: list[Any], tmp_path: Path,
) -> None:  # fmt: skip
    window = make_window(desktop=True)  # as `enclave gui` builds it: the embedder in a child
    qtbot.waitUntil(lambda: window.warm is not None, timeout=LONG)
    assert window.warm.device in window.status.model_label.text()
    assert window.status.privacy_text() == "Offline: nothing has left this computer"

    # A workspace, made with the New button.
    dialogs.texts.append("Aduro consulting")
    click(qtbot, window.workspaces.new_button)
    assert window.workspace is not None and window.workspace.name == "Aduro consulting"

    # A CUAD contract, added through "Add files…".
    summary = add_files(qtbot, window, dialogs, CONTRACT)
    assert summary is not None and summary.counts == {"indexed": 1}
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 1, timeout=LONG)
    doc = window.documents.model.item(0)
    assert doc.status == "indexed" and doc.chunk_count > 0 and doc.name == CONTRACT.name

    # Ask; tokens arrive (and show in the transcript) before the answer is finished.
    streamed: list[tuple[str, bool]] = []
    window.chat.token_received.connect(
        lambda _t: streamed.append((window.chat.view.streamed_text(), window.chat.task is not None))
    )
    answer = ask(qtbot, window, QUESTION)
    assert streamed, "no token arrived before the answer was complete"
    assert all(running for _, running in streamed)
    # What is shown is the evidence, then only the sentences that passed the fact check.
    assert answer.evidence and (answer.evidence_only or answer.answer)
    assert not answer.cancelled and answer.citations, answer.answer
    transcript = window.chat.view.toPlainText()
    first_words = " ".join(answer.evidence[0].quote.split()[:4])
    assert QUESTION in transcript and first_words in " ".join(transcript.split())
    assert answer.device in transcript and f"{len(answer.sources)} sources" in transcript

    # Click a citation marker: the Sources tab shows the passage with the quote highlighted.
    citation = next((c for c in answer.citations if c.verified), answer.citations[0])
    kind = "evid" if citation.n in {q.n for q in answer.evidence} else "cite"  # evidence link
    click_anchor(qtbot, window.chat.view, f"{kind}:{answer.message_id}:{citation.n}")
    qtbot.waitUntil(lambda: window.citations.passage is not None, timeout=LONG)
    assert window.tabs.currentWidget() is window.citations
    assert window.citations.heading.text() == f"[{citation.n}] {CONTRACT.name}"
    if citation.verified:
        assert window.citations.highlighted_text() == citation.quote
        assert citation.quote in CONTRACT.read_text(encoding="utf-8", errors="replace")
    else:
        assert window.citations.highlighted_text() == ""
    click(qtbot, window.citations.open_button)
    assert opened_urls and opened_urls[-1].toLocalFile() == str(CONTRACT.resolve())

    # Stop (Esc) in the middle of a long answer: the part written so far is kept as stopped.
    first_token: list[str] = []
    window.chat.token_received.connect(first_token.append)
    stopped: list[Any] = []
    window.chat.answer_finished.connect(stopped.append)
    qtbot.keyClicks(window.chat.composer, LONG_QUESTION)
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(first_token) or bool(stopped), timeout=LONG)
    qtbot.keyClick(window.chat.composer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: bool(stopped) and window.chat.task is None, timeout=LONG)
    assert stopped[0].cancelled
    assert "Stopped before the end." in window.chat.view.toPlainText()
    assert window.chat.send_button.text() == "Send"

    # Copy puts the last answer on the clipboard.
    click(qtbot, window.chat.copy_button)
    assert QGuiApplication.clipboard().text().startswith(stopped[0].answer[:10])

    # A broken file is rejected with its reason, shown in the documents table.
    summary = add_files(qtbot, window, dialogs, BROKEN_PDF)
    assert summary.counts == {"rejected": 1}
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 2, timeout=LONG)
    rows = {d.name: d for d in window.documents.model.items()}
    broken = rows[BROKEN_PDF.name]
    assert broken.status == "rejected" and len(broken.reason) > 10
    row = window.documents.model.items().index(broken)
    shown = window.documents.model.index(row, 0).data()
    assert broken.reason in shown
    assert window.documents.model.index(row, 1).data() == "Rejected"

    # Another workspace sees none of this matter's documents or conversations.
    conversation_id = window.chat.conversation_id
    dialogs.texts.append("Other matter")
    click(qtbot, window.workspaces.new_button)
    qtbot.waitUntil(lambda: window.workspace.name == "Other matter", timeout=LONG)
    qtbot.wait(200)
    assert window.conversations.model.rowCount() == 0
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 0, timeout=LONG)
    elsewhere = ask(qtbot, window, QUESTION)
    assert elsewhere.not_found and not elsewhere.sources and not elsewhere.citations

    # Restart: a new window on the same folders shows the conversation again.
    close_window(window)
    indexes = window.enclave.indexes  # the search model's and the indexes' process has ended
    assert indexes.started and not indexes.running
    window = make_window(embedder=real_embedder)
    aduro = next(w for w in window.enclave.workspaces.list() if w.name == "Aduro consulting")
    window.workspaces.select(aduro.id)
    qtbot.waitUntil(lambda: window.conversations.model.rowCount() == 1, timeout=10_000)
    assert [c.title for c in window.conversations.model.items()] == [QUESTION]
    click_row(qtbot, window.conversations.list, 0)
    assert window.chat.conversation_id == conversation_id
    text = window.chat.view.toPlainText()
    assert QUESTION in text and answer.answer[:20] in text
    assert LONG_QUESTION in text and "Stopped before the end." in text
    assert window.chat.view.citations(answer.message_id)  # its markers are clickable again

    # Export with citations, as Markdown and HTML.
    dialogs.save_targets += [tmp_path / "matter.md", tmp_path / "matter.html"]
    md_path, html_path = window.chat.export("md"), window.chat.export("html")
    assert md_path is not None and html_path is not None
    md = md_path.read_text(encoding="utf-8")
    assert QUESTION in md and f"[{citation.n}] {CONTRACT.name}, page {citation.page}" in md
    assert "<!DOCTYPE html>" in html_path.read_text(encoding="utf-8")


def test_regenerate_stores_the_question_once_per_version_and_keeps_the_first_answer(
    make_window: Any, dialogs: ScriptedDialogs, real_embedder: object, qtbot: Any
) -> None:
    window = make_window(embedder=real_embedder)
    qtbot.waitUntil(lambda: window.warm is not None, timeout=LONG)
    add_files(qtbot, window, dialogs, CONTRACT)
    first = ask(qtbot, window, QUESTION)
    with qtbot.waitSignal(window.chat.answer_finished, timeout=LONG) as again:
        click(qtbot, window.chat.regenerate_button)
    qtbot.waitUntil(lambda: window.chat.task is None, timeout=LONG)
    second = again.args[0]
    assert second.conversation_id == first.conversation_id
    assert second.message_id != first.message_id
    assert window.chat.view.toPlainText().count(QUESTION) == 1
    messages = window.enclave.history.messages(first.conversation_id)
    assert [m.id for m in messages if m.role == "assistant"] == [second.message_id]
    assert [m.role for m in messages] == ["user", "assistant"]  # the question is stored once
    versions = window.enclave.history.answer_versions(second.message_id)
    assert [v.id for v in versions] == [first.message_id, second.message_id]  # the first kept


def test_a_protected_pdf_asks_for_its_password_and_then_indexes(
    make_window: Any, dialogs: ScriptedDialogs, real_embedder: object, qtbot: Any
) -> None:
    window = make_window(embedder=real_embedder)
    summary = add_files(qtbot, window, dialogs, LOCKED_PDF)
    assert summary.counts == {"needs_password": 1}
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 1, timeout=LONG)
    assert window.documents.model.item(0).status == "needs_password"
    window.documents.table.selectRow(0)
    dialogs.passwords.append("openpassword")
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=LONG) as done:
        click(qtbot, window.documents.password_button)
    assert done.args[0].counts == {"indexed": 1}
    qtbot.waitUntil(
        lambda: (
            window.documents.ingest_task is None
            and window.documents.model.rowCount() == 1
            and window.documents.model.item(0).status == "indexed"
        ),
        timeout=LONG,
    )


def test_models_panel_lists_the_built_in_model_and_explains_a_refused_import(
    make_window: Any, qtbot: Any, tmp_path: Path, real_embedder: object
) -> None:
    window = make_window(embedder=real_embedder)
    qtbot.waitUntil(lambda: window.models.model.rowCount() > 0, timeout=LONG)
    model = window.models.model
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row[0] == "smollm2-135m-instruct"
    assert row[1] == "general" and row[3] == "Q4_1" and row[4] == "Apache-2.0"
    assert row[2].endswith("MB")
    qtbot.waitUntil(lambda: "Detecting" not in window.models.backend.text(), timeout=LONG)
    assert "CPU" in window.models.backend.text() or "GPU" in window.models.backend.text()

    fake = tmp_path / "not-a-model.gguf"
    fake.write_text("this is a text file, not a model\n" * 10, encoding="utf-8")
    task = window.models.import_path(fake)
    assert task is not None
    qtbot.waitUntil(lambda: window.models.import_task is None, timeout=LONG)
    status = window.models.status.text()
    assert status.startswith("not-a-model.gguf was not imported: ")
    assert len(status) > len("not-a-model.gguf was not imported: ") + 10
    assert model.rowCount() == 1


def test_drop_reindex_changed_and_remove(
    make_window: Any, dialogs: ScriptedDialogs, real_embedder: object, qtbot: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    window = make_window(start=False, embedder=real_embedder)
    window.workspaces.load()
    note = tmp_path / "ward-round.txt"
    note.write_text("Ward round. The patient takes warfarin 5 mg daily.\n", encoding="utf-8")

    # Drag-and-drop a file onto the window: it is added to the current workspace.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(note))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    enter = QDragEnterEvent(QPoint(200, 200), *args)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()  # the window takes local files
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=60_000) as done:
        QApplication.sendEvent(window, QDropEvent(QPointF(200, 200), *args))
    assert done.args[0].counts == {"indexed": 1}
    assert window.tabs.currentWidget() is window.documents
    qtbot.waitUntil(lambda: window.documents.ingest_task is None, timeout=LONG)

    # Re-index: unchanged files are skipped, a changed file is indexed again.
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=LONG) as done:
        click(qtbot, window.documents.reindex_button)
    assert done.args[0].counts == {"unchanged": 1}
    qtbot.waitUntil(lambda: window.documents.ingest_task is None, timeout=LONG)
    note.write_text("Ward round. Warfarin stopped; apixaban 5 mg twice daily.\n", encoding="utf-8")
    with qtbot.waitSignal(window.documents.ingest_finished, timeout=LONG) as done:
        click(qtbot, window.documents.reindex_button)
    assert done.args[0].counts == {"indexed": 1}
    qtbot.waitUntil(lambda: window.documents.ingest_task is None, timeout=LONG)
    hits = window.enclave.index(window.workspace).search("apixaban", k=1)
    assert hits and "apixaban" in hits[0].chunk.text

    # Remove, after a confirmation naming the document.
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 1, timeout=LONG)
    window.documents.table.selectRow(0)
    dialogs.confirms.append(True)
    click(qtbot, window.documents.remove_button)
    assert "ward-round.txt" in dialogs.asked[-1][1]
    qtbot.waitUntil(lambda: window.documents.model.rowCount() == 0, timeout=LONG)
    assert window.enclave.index(window.workspace).documents() == []
