"""The chat: transcript, question box, Send/Stop, Regenerate, Copy and Export.

Answers are generated on a worker thread (`ChatService.ask` through the WorkerPool); events
arrive here as queued signals on the GUI thread: the evidence is shown as soon as it is chosen,
then a progress line (seconds, then tokens/s) until the checked answer replaces it. Stop sets
the answer's CancelToken, which the model's inference thread checks between tokens.

Regenerate stores the new answer as the next version of the question's turn (app.library.history
keeps every version and which one is chosen): an answer with several shows "‹ earlier  1 of 2
later ›", and the version shown is the chosen one, remembered across restarts and exported.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.desktop.facade import (
    AskOptions,
    CancelToken,
    ChatAnswer,
    ChatError,
    ConversationNotFound,
    EvidenceFound,
    SourcesFound,
    Token,
    Workspace,
    regenerate_question,
    transcript,
)
from app.library.export import conversation_html, conversation_markdown
from ui.answer_line import progress_text
from ui.answer_parts import AnswerParts, from_answer, from_stored
from ui.composer import Composer
from ui.elided_label import ElidedLabel
from ui.transcript import TranscriptView
from ui.workers import Task, WorkerPool

if TYPE_CHECKING:
    from app.chat.service import ChatService
    from app.desktop.facade import FrontierRoute
    from app.library.history import HistoryStore
    from ui.dialogs import Dialogs
    from ui.frontier_ask import FrontierAsk

EMPTY_TITLE = "Ask your documents"
EMPTY_TEXT = (
    "Add documents to this workspace (drag files onto the window, or use Documents → Add files), "
    "then ask a question. Every answer shows the page and the exact passage it comes from."
)
READY_TEXT = (
    "Ask a question about the {n} in {workspace}. Every answer starts with the passages it "
    "comes from, quoted word for word, with the page or line."
)
NO_WORKSPACE_TEXT = "Choose or create a workspace on the left to start."
PROGRESS_MS = 1000
COPIED_MS = 2000
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u200e\u200f\u202a-\u202e\u2066-\u2069]')


def export_name(title: str, day: date, suffix: str) -> str:
    """A file name for an exported conversation: its title and the date, with nothing that a
    file system refuses or that moves the file elsewhere (separators, "..", controls)."""
    safe = re.sub(r"\s+", " ", _UNSAFE.sub(" ", title)).strip(" .")[:60].strip(" .")
    return f"{safe or 'Conversation'} {day.isoformat()}{suffix}"


def documents_folder() -> Path:
    """The person's documents folder (QStandardPaths.DocumentsLocation), else their home."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(folder) if folder else Path.home()


class ChatPanel(QWidget):
    conversation_changed = Signal(str)  # a conversation was created or got a new answer
    citation_clicked = Signal(object)  # a Citation
    token_received = Signal(str)
    answer_finished = Signal(object)  # the ChatAnswer
    message = Signal(str)  # a readable error or notice for the message bar

    def __init__(
        self,
        chat: ChatService,
        history: HistoryStore,
        pool: WorkerPool,
        dialogs: Dialogs,
        parent: QWidget | None = None,
        frontier: FrontierRoute | None = None,
    ) -> None:
        super().__init__(parent)
        self._chat = chat
        self._frontier = frontier
        self._history = history
        self._pool = pool
        self._dialogs = dialogs
        self.workspace: Workspace | None = None
        self.conversation_id: str | None = None
        self.task: Task | None = None
        self._ready = False
        self._unavailable = ""
        self._pending: str | None = None
        self._last_answer: ChatAnswer | None = None
        self.document_count: int | None = None  # in the workspace; None: not known yet
        self._regenerating: str | None = None  # the conversation whose last turn is re-asked
        self._started = 0.0
        self._first_token: float | None = None
        self._tokens = 0
        self._stage = ""
        self._progress = QTimer(self)
        self._progress.setInterval(PROGRESS_MS)
        self._progress.timeout.connect(self.update_progress)
        self._copied = QTimer(self)
        self._copied.setSingleShot(True)
        self._copied.setInterval(COPIED_MS)
        self._copied.timeout.connect(lambda: self.copy_button.setText("Copy"))
        self._build()
        self._update_buttons()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = ElidedLabel("New conversation")
        self.title.setAccessibleName("Conversation title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setAccessibleName("Export conversation")
        self.export_button.setToolTip("Save this conversation with its citations")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("As Markdown…", lambda: self.export("md"))
        menu.addAction("As HTML…", lambda: self.export("html"))
        self.export_button.setMenu(menu)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.export_button)

        self.view = TranscriptView()
        self.view.citation_clicked.connect(self.citation_clicked)
        self.view.version_requested.connect(self.show_version)
        self.view.link_refused.connect(
            lambda url: self.message.emit(f"Links in answers are not opened: {url}")
        )
        self.composer = Composer()
        self.composer.submitted.connect(self.ask)
        self.composer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

        self.send_button = QPushButton("Send")
        self.send_button.setAccessibleName("Send question")
        self.send_button.setToolTip("Send the question (Enter)")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self._send_or_stop)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setAccessibleName("Regenerate answer")
        self.regenerate_button.setToolTip("Ask the last question again")
        self.regenerate_button.clicked.connect(self.regenerate)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setAccessibleName("Copy answer")
        self.copy_button.setToolTip("Copy the last answer and its sources")
        self.copy_button.clicked.connect(self.copy_answer)
        buttons = QVBoxLayout()
        for b in (self.send_button, self.regenerate_button, self.copy_button):
            buttons.addWidget(b)
        self.frontier_ask: FrontierAsk | None = None
        if self._frontier is not None:  # shown only where the policy allows (set_workspace)
            from ui.frontier_ask import FrontierAsk

            self.frontier_ask = FrontierAsk(
                self._frontier, self, self._pool, self._dialogs, parent=self
            )
            buttons.addWidget(self.frontier_ask.button)
        buttons.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.composer, 1)
        bottom.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)
        self.show_empty()

    def empty_text(self) -> str:
        """What an empty conversation says, for this workspace: "Add documents…" only when it
        has none."""
        ws = self.workspace
        if ws is None:
            return NO_WORKSPACE_TEXT
        n = self.document_count
        if not n:
            return EMPTY_TEXT
        docs = f"{n} document{'s' if n != 1 else ''}"
        return READY_TEXT.format(n=docs, workspace=ws.name)

    def show_empty(self) -> None:
        self.view.show_hint(EMPTY_TITLE, self.empty_text())

    def set_document_count(self, n: int | None) -> None:
        """The workspace's number of documents changed: update an empty conversation's hint."""
        self.document_count = n
        idle = self.conversation_id is None and not self.answering and not self.view.streaming
        if idle and self.view.toPlainText().strip().startswith(EMPTY_TITLE):
            self.show_empty()

    # -- state ----------------------------------------------------------------------------
    @property
    def answering(self) -> bool:
        return self.task is not None or self._pending is not None

    def set_ready(self) -> None:
        """The model is loaded: send a question that was waiting for it."""
        self._ready = True
        self._unavailable = ""
        if self._pending is not None:
            question, self._pending = self._pending, None
            self._start(question)
        self._update_buttons()

    def set_unavailable(self, reason: str) -> None:
        self._unavailable = reason
        if self._pending is not None:
            self._pending = None
            self._cancel_regenerate()
            self.view.finish_answer("", "", [], "", notice=f"Not answered: {reason}")
        self._update_buttons()

    def set_workspace(self, workspace: Workspace | None) -> None:
        self.stop()
        self.workspace = workspace
        self.document_count = None
        if self.frontier_ask is not None:
            self.frontier_ask.set_workspace(workspace)
        self.new_chat()

    def new_chat(self) -> None:
        if self.answering:
            self.stop()
        self.conversation_id = None
        self._last_answer = None
        self.title.setText("New conversation")
        self.show_empty()
        self._update_buttons()
        self.composer.setFocus()

    def rerender(self) -> None:
        """Draw the transcript again (after a light/dark theme change)."""
        if self.answering:
            return
        if self.conversation_id is not None:
            self.open_conversation(self.conversation_id)
        else:
            self.show_empty()

    def open_conversation(self, conversation_id: str) -> None:
        if self.answering:
            self.stop()
        conv = self._history.conversation(conversation_id)
        self.conversation_id = conv.id
        self._last_answer = None
        self.title.setText(conv.title)
        self.view.clear_all()
        pairs = transcript(self._history.messages(conv.id))
        for question, answer in pairs:
            self.view.add_question(question)
            if answer is None:
                self.view.add_notice("(not answered)")
            else:
                self.view.add_parts(from_stored(answer))  # its chosen version
        self.view.jump_to_latest()
        self._update_buttons()

    # -- versions (Regenerate) ------------------------------------------------------------
    def _last_answer_id(self) -> str | None:
        if self.conversation_id is None:
            return None
        answered = [a for _, a in transcript(self._history.messages(self.conversation_id)) if a]
        return answered[-1].id if answered else None

    def versions(self) -> list[AnswerParts]:
        """Every version of this conversation's last answer, oldest first (from history)."""
        key = self._last_answer_id()
        return [from_stored(m) for m in self._history.answer_versions(key)] if key else []

    def shown_version(self) -> int:
        """Which version of the last answer is shown (the chosen one; 1-based, 0: none)."""
        key = self._last_answer_id()
        return next((v.version for v in self.versions() if v.key == key), 0)

    def show_version(self, key: str, delta: int) -> None:
        """Show the earlier (delta -1) or later (+1) version of the answer `key`, in place,
        and make it the chosen one (history remembers it; Copy and Export use it)."""
        if self.answering:
            return
        versions = self._history.answer_versions(key)
        at = next((i for i, v in enumerate(versions) if v.id == key), None)
        if at is None or not 0 <= at + delta < len(versions):
            return
        wanted = versions[at + delta]
        try:
            self._history.choose_answer(wanted.id)
        except ConversationNotFound as exc:  # deleted meanwhile (by `enclave` in a terminal)
            self.message.emit(str(exc))
            return
        self.view.replace_parts(from_stored(wanted), key)

    def _update_buttons(self) -> None:
        busy = self.answering
        self.send_button.setText("Stop" if busy else "Send")
        self.send_button.setAccessibleName("Stop answer" if busy else "Send question")
        self.send_button.setToolTip(
            "Stop the answer (Esc)" if busy else "Send the question (Enter)"
        )
        can_ask = self.workspace is not None and not self._unavailable
        self.send_button.setEnabled(busy or can_ask)
        has_answer = self.conversation_id is not None and not busy
        self.regenerate_button.setEnabled(has_answer and can_ask)
        self.copy_button.setEnabled(has_answer)
        if self.frontier_ask is not None:
            self.frontier_ask.button.setEnabled(
                can_ask and not busy and self.frontier_ask.task is None
            )
        self.export_button.setEnabled(has_answer)
        if self._unavailable:
            self.composer.setPlaceholderText(f"Cannot answer: {self._unavailable}")

    # -- asking ---------------------------------------------------------------------------
    def _send_or_stop(self) -> None:
        if self.answering:
            self.stop()
        else:
            self.composer.submit()

    def ask(self, question: str) -> None:
        question = question.strip()
        if not question or self.answering:
            return
        if self.workspace is None:
            self.message.emit("Choose or create a workspace first.")
            return
        if self._unavailable:
            self.message.emit(f"Enclave cannot answer yet: {self._unavailable}")
            return
        self.show_question(question)
        if not self._ready:
            self._pending = question
            self.view.begin_answer("", "Waiting for the model to finish loading…")
            self._update_buttons()
            return
        self._start(question)

    def show_question(self, question: str) -> None:
        """Clear the composer and put the question in the transcript (a new title if new)."""
        self.composer.clear()
        if self.conversation_id is None:
            self.view.clear_all()
            self.title.setText(question)  # elided to the width there is, whole in the tooltip
        self.view.add_question(question)

    def _start(self, question: str) -> None:
        assert self.workspace is not None
        ws, conv, chat = self.workspace, self.conversation_id, self._chat
        self.run_answer(
            lambda cancel: chat.ask(ws, question, AskOptions(conversation_id=conv), cancel=cancel),
            "Searching your documents…",
        )

    def typed_question(self) -> str:
        """The question in the composer, if any."""
        return self.composer.toPlainText().strip()

    def tell(self, text: str) -> None:
        """A notice or a readable error for the message bar."""
        self.message.emit(text)

    def run_answer(
        self, events: Callable[[CancelToken], Iterator[object]], status: str, name: str = "chat"
    ) -> None:
        """Run an answer's events (ChatService.ask's kind) on a worker, into the transcript."""
        self._started = time.monotonic()
        self._first_token = None
        self._tokens = 0
        self._stage = status
        if not self.view.streaming:
            self.view.begin_answer("", status)
        self.update_progress()
        self._progress.start()
        cancel = CancelToken()
        self.task = self._pool.start(name, lambda: events(cancel), cancel=cancel)
        self.task.item.connect(self._on_event)
        self.task.failed.connect(self._on_failed)
        self.task.finished.connect(self._on_finished)
        self._update_buttons()

    def stop(self) -> None:
        """Stop the answer being written (Esc). The part already written is kept."""
        if self._pending is not None:
            self._pending = None
            self._cancel_regenerate()
            self.view.finish_answer("", "", [], "", notice="Stopped before the model was ready.")
            self._update_buttons()
        if self.task is not None and not self.task.cancel_requested:
            self.task.cancel()
            self.send_button.setText("Stopping…")
            self.send_button.setEnabled(False)

    def update_progress(self) -> None:  # GUI thread (the progress timer, and each event)
        """The answer line while waiting: elapsed seconds, then tokens and tokens/s."""
        if not self.view.streaming:
            return
        now = time.monotonic()
        writing = None if self._first_token is None else now - self._first_token
        self.view.set_stream_status(
            progress_text(now - self._started, self._tokens, writing, self._stage)
        )

    def _on_event(self, event: object) -> None:  # GUI thread
        if isinstance(event, Token):
            if self._first_token is None:
                self._first_token = time.monotonic()
                self._stage = "Writing the answer (checked against your documents when done)…"
            self._tokens += 1
            self.view.append_tokens(event.text)
            self.update_progress()
            self.token_received.emit(event.text)
        elif isinstance(event, SourcesFound):
            n = len(event.sources)
            self._stage = (
                f"Found {n} relevant passage{'s' if n != 1 else ''}; writing the answer…"
                if n
                else "No relevant passage found in this workspace."
            )
            self.update_progress()
        elif isinstance(event, EvidenceFound):
            if event.evidence:
                self.view.show_evidence(event.evidence)
        elif isinstance(event, ChatAnswer):
            self._finish(event)

    def _finish(self, answer: ChatAnswer) -> None:
        self._progress.stop()
        new = self.conversation_id != answer.conversation_id
        self.conversation_id = answer.conversation_id
        self._last_answer = answer
        self._regenerating = None
        parts = from_answer(answer)
        stored = self._history.answer_versions(answer.message_id)
        this = next((v for v in stored if v.id == answer.message_id), None)
        if this is not None:
            parts = parts.with_version(this.version, this.versions)
        self.view.finish_parts(parts)
        if new:
            self.title.setText(self._history.conversation(answer.conversation_id).title)
        self.answer_finished.emit(answer)
        self.conversation_changed.emit(answer.conversation_id)

    def _on_failed(self, message: str) -> None:  # GUI thread
        self._progress.stop()
        self._cancel_regenerate()
        self.view.finish_answer("", "", [], "", notice=f"Not answered: {message}")
        self.message.emit(message)

    def _on_finished(self) -> None:  # GUI thread
        self._progress.stop()
        self._cancel_regenerate()  # stopped or failed before the question was stored again
        self.task = None
        self._update_buttons()

    def _cancel_regenerate(self) -> None:
        """No new version is coming: the turn being asked again shows its chosen answer."""
        if self._regenerating is not None:
            self._history.cancel_new_version(self._regenerating)
            self._regenerating = None

    def regenerate(self) -> None:
        """Ask the last question again; its answers so far stay as earlier versions."""
        if self.answering or self.conversation_id is None:
            return
        conv = self.conversation_id
        try:
            question = regenerate_question(self._history, conv)
        except ChatError as exc:
            self.message.emit(str(exc))
            return
        self.open_conversation(conv)  # without the turn being asked again
        self._regenerating = conv
        self.view.add_question(question)
        if self._ready:
            self._start(question)
        else:
            self._pending = question
            self.view.begin_answer("", "Waiting for the model to finish loading…")
        self._update_buttons()

    def last_question(self) -> str:
        """The conversation's last question ("" when there is none)."""
        if self.conversation_id is None:
            return ""
        pairs = transcript(self._history.messages(self.conversation_id))
        return pairs[-1][0] if pairs else ""

    # -- copy and export ------------------------------------------------------------------
    def last_answer_text(self) -> str:
        if self.conversation_id is None:
            return ""
        pairs = transcript(self._history.messages(self.conversation_id))
        answered = [a for _, a in pairs if a is not None]
        if not answered:
            return ""
        last = answered[-1]
        lines = [last.content]
        if last.citations:
            lines += ["", "Sources:"]
            for c in last.citations:
                quote = f': "{c.quote}"' if c.verified and c.quote else ""
                lines.append(f"[{c.n}] {c.document}, page {c.page}{quote}")
        return "\n".join(lines)

    def copy_answer(self) -> None:
        text = self.last_answer_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copy_button.setText("Copied")
            self._copied.start()
            self.message.emit("Copied: the answer and its sources are on the clipboard.")

    def export(self, fmt: str) -> Path | None:
        if self.conversation_id is None or self.workspace is None:
            return None
        conv = self._history.conversation(self.conversation_id)
        messages = self._history.messages(conv.id)
        suffix, filters = (".md", "Markdown (*.md)") if fmt == "md" else (".html", "HTML (*.html)")
        suggested = documents_folder() / export_name(conv.title, date.today(), suffix)
        target = self._dialogs.save_file("Export conversation", str(suggested), filters)
        if target is None:
            return None
        if target.suffix.lower() != suffix:
            target = target.with_name(target.name + suffix)
        builder = conversation_markdown if fmt == "md" else conversation_html
        try:
            target.write_text(builder(conv.title, self.workspace.name, messages), encoding="utf-8")
        except OSError as exc:
            self.message.emit(f"The conversation could not be saved to {target}: {exc.strerror}.")
            return None
        self.message.emit(f"Saved to {target}.")
        return target
