""" "Ask the frontier model…": the approved frontier route, offered only where the policy allows it.

Prepare (retrieve and redact, on a worker), review (the dialog shows exactly what would leave,
redactions highlighted; "Don't send" is the default), then send; the answer streams into the
chat like a local one, and the status bar's privacy indicator changes (it reads the ledger).
The question is the one in the composer, or else the conversation's last question.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QPushButton

from app.desktop.facade import CancelToken, FrontierRoute, PreparedQuestion, Workspace
from app.errors import is_user_error

if TYPE_CHECKING:
    from ui.dialogs import Dialogs
    from ui.workers import Task, WorkerPool

log = logging.getLogger(__name__)


class AskHost(Protocol):
    """What the frontier button needs of the chat it sits in (ui.chat_panel.ChatPanel)."""

    workspace: Workspace | None
    conversation_id: str | None

    @property
    def answering(self) -> bool: ...
    def typed_question(self) -> str: ...
    def last_question(self) -> str: ...
    def tell(self, text: str) -> None: ...
    def show_question(self, question: str) -> None: ...
    def run_answer(
        self, events: Callable[[CancelToken], Iterator[object]], status: str, name: str = "chat"
    ) -> None: ...


class FrontierAsk(QObject):
    def __init__(
        self,
        frontier: FrontierRoute,
        panel: AskHost,
        pool: WorkerPool,
        dialogs: Dialogs,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._frontier = frontier
        self._panel = panel
        self._pool = pool
        self._dialogs = dialogs
        self.task: Task | None = None
        self.button = QPushButton("Ask frontier…")
        self.button.setAccessibleName("Ask the approved frontier model")
        self.button.setToolTip(
            "Send this question, with identifiers replaced, to the frontier model your "
            "administrator approved. You see exactly what is sent first."
        )
        self.button.clicked.connect(self.start)
        self.button.setVisible(False)
        self.allowed = False

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Show the button only where the administrator's policy allows the route."""
        try:
            self.allowed = workspace is not None and self._frontier.available(workspace)
        except Exception as exc:  # a policy that cannot be read offers nothing
            if is_user_error(exc):  # a known user error: one line in the log
                log.warning("frontier route not offered: %s", type(exc).__name__)
            else:  # a bug: its traceback goes to the log (never content)
                log.exception("frontier route not offered")
            self.allowed = False
        self.button.setVisible(self.allowed)

    def question(self) -> str:
        return self._panel.typed_question() or self._panel.last_question()

    def start(self) -> None:
        panel = self._panel
        question, workspace = self.question(), panel.workspace
        if panel.answering or self.task is not None or workspace is None:
            return
        if not question:
            panel.tell("Type a question first.")
            return
        conversation = panel.conversation_id
        frontier = self._frontier
        self.button.setEnabled(False)
        self.task = self._pool.start(
            "frontier-prepare",
            lambda: frontier.prepare(workspace, question, conversation_id=conversation),
        )
        self.task.item.connect(self._review)
        self.task.failed.connect(panel.tell)
        self.task.finished.connect(self._prepared)

    def _prepared(self) -> None:  # GUI thread
        self.task = None
        self.button.setEnabled(self.allowed and not self._panel.answering)

    def _review(self, prepared: object) -> None:  # GUI thread
        assert isinstance(prepared, PreparedQuestion)
        if not self._dialogs.review_request(prepared.request):
            self._panel.tell("Nothing was sent.")
            return
        panel, frontier = self._panel, self._frontier
        panel.show_question(prepared.question)
        panel.run_answer(
            lambda cancel: frontier.send(prepared, True, cancel=cancel),
            f"Sending to {prepared.request.destination}…",
            name="frontier",
        )
