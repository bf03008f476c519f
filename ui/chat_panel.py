"""The chat: transcript, question box, Send/Stop, Regenerate, Copy and Export.

Answers are generated on a worker thread (`ChatService.ask` through the WorkerPool); tokens
arrive here as queued signals on the GUI thread. Stop sets the answer's CancelToken, which the
model's inference thread checks between tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
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
    SourcesFound,
    StoredMessage,
    Token,
    Workspace,
    regenerate_question,
    transcript,
)
from app.library.export import conversation_html, conversation_markdown
from ui.answer_line import answer_meta, stored_meta
from ui.composer import Composer
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
        self._build()
        self._update_buttons()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel("New conversation")
        self.title.setAccessibleName("Conversation title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        self.view.show_hint(EMPTY_TITLE, EMPTY_TEXT)

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
            self.view.finish_answer("", "", [], "", notice=f"Not answered: {reason}")
        self._update_buttons()

    def set_workspace(self, workspace: Workspace | None) -> None:
        self.stop()
        self.workspace = workspace
        if self.frontier_ask is not None:
            self.frontier_ask.set_workspace(workspace)
        self.new_chat()

    def new_chat(self) -> None:
        if self.answering:
            self.stop()
        self.conversation_id = None
        self._last_answer = None
        self.title.setText("New conversation")
        self.view.show_hint(EMPTY_TITLE, EMPTY_TEXT)
        self._update_buttons()
        self.composer.setFocus()

    def rerender(self) -> None:
        """Draw the transcript again (after a light/dark theme change)."""
        if self.answering:
            return
        if self.conversation_id is not None:
            self.open_conversation(self.conversation_id)
        else:
            self.view.show_hint(EMPTY_TITLE, EMPTY_TEXT)

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
                self._add_stored_answer(answer)
        self.view.verticalScrollBar().setValue(self.view.verticalScrollBar().maximum())
        self._update_buttons()

    def _add_stored_answer(self, answer: StoredMessage) -> None:
        notice = "Stopped before the end." if answer.meta.get("cancelled") else ""
        self.view.add_answer(
            answer.id, answer.content, answer.citations, stored_meta(answer.meta), notice
        )

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
            self.title.setText(question if len(question) < 80 else question[:77] + "...")
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
        if not self.view.streaming:
            self.view.begin_answer("", status)
        else:
            self.view.set_stream_status(status)
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
            self.view.finish_answer("", "", [], "", notice="Stopped before the model was ready.")
            self._update_buttons()
        if self.task is not None and not self.task.cancel_requested:
            self.task.cancel()
            self.send_button.setText("Stopping…")
            self.send_button.setEnabled(False)

    def _on_event(self, event: object) -> None:  # GUI thread
        if isinstance(event, Token):
            self.view.append_tokens(event.text)
            self.token_received.emit(event.text)
        elif isinstance(event, SourcesFound):
            n = len(event.sources)
            self.view.set_stream_status(
                f"Found {n} relevant passage{'s' if n != 1 else ''}; writing the answer…"
                if n
                else "No relevant passage found in this workspace."
            )
        elif isinstance(event, ChatAnswer):
            self._finish(event)

    def _finish(self, answer: ChatAnswer) -> None:
        new = self.conversation_id != answer.conversation_id
        self.conversation_id = answer.conversation_id
        self._last_answer = answer
        notice = ""
        if answer.cancelled:
            notice = "Stopped before the end."
        elif answer.not_found and not answer.sources:
            notice = "No passage in this workspace matches the question closely enough."
        self.view.finish_answer(
            answer.message_id, answer.answer, answer.citations, answer_meta(answer), notice
        )
        if new:
            self.title.setText(self._history.conversation(answer.conversation_id).title)
        self.answer_finished.emit(answer)
        self.conversation_changed.emit(answer.conversation_id)

    def _on_failed(self, message: str) -> None:  # GUI thread
        self.view.finish_answer("", "", [], "", notice=f"Not answered: {message}")
        self.message.emit(message)

    def _on_finished(self) -> None:  # GUI thread
        self.task = None
        self._update_buttons()

    def regenerate(self) -> None:
        if self.answering or self.conversation_id is None:
            return
        try:
            question = regenerate_question(self._history, self.conversation_id)
        except ValueError as exc:
            self.message.emit(str(exc))
            return
        self.open_conversation(self.conversation_id)  # without the exchange just dropped
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
            self.message.emit("The answer and its sources were copied.")

    def export(self, fmt: str) -> Path | None:
        if self.conversation_id is None or self.workspace is None:
            return None
        conv = self._history.conversation(self.conversation_id)
        messages = self._history.messages(conv.id)
        safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in conv.title)[:60]
        suffix, filters = (".md", "Markdown (*.md)") if fmt == "md" else (".html", "HTML (*.html)")
        target = self._dialogs.save_file(
            "Export conversation", (safe.strip() or "conversation") + suffix, filters
        )
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
