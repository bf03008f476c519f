""" "Ask the remote model…": the approved frontier route, offered only where the policy allows it.

Prepare (retrieve and redact, on a worker), review (the dialog shows exactly what would leave,
redactions highlighted; "Don't send" is the default), then send; the answer streams into the
chat like a local one, and the status bar's privacy indicator changes (it reads the ledger).
The question is the one in the composer, or else the conversation's last question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QPushButton

from app.desktop import EscalationService, PreparedQuestion, Workspace

if TYPE_CHECKING:
    from ui.chat_panel import ChatPanel
    from ui.dialogs import Dialogs
    from ui.workers import Task, WorkerPool


class RemoteAsk(QObject):
    def __init__(
        self,
        escalation: EscalationService,
        panel: ChatPanel,
        pool: WorkerPool,
        dialogs: Dialogs,
    ) -> None:
        super().__init__(panel)
        self._escalation = escalation
        self._panel = panel
        self._pool = pool
        self._dialogs = dialogs
        self.task: Task | None = None
        self.button = QPushButton("Ask remote…")
        self.button.setAccessibleName("Ask the approved remote model")
        self.button.setToolTip(
            "Send this question, with identifiers replaced, to the remote model your "
            "administrator approved. You see exactly what is sent first."
        )
        self.button.clicked.connect(self.start)
        self.button.setVisible(False)
        self.allowed = False

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Show the button only where the administrator's policy allows the route."""
        try:
            self.allowed = workspace is not None and self._escalation.available(workspace)
        except Exception:  # a policy that cannot be read offers nothing
            self.allowed = False
        self.button.setVisible(self.allowed)

    def question(self) -> str:
        typed = self._panel.composer.toPlainText().strip()
        return typed or self._panel.last_question()

    def start(self) -> None:
        panel = self._panel
        question, workspace = self.question(), panel.workspace
        if panel.answering or self.task is not None or workspace is None:
            return
        if not question:
            panel.message.emit("Type a question first.")
            return
        conversation = panel.conversation_id
        escalation = self._escalation
        self.button.setEnabled(False)
        self.task = self._pool.start(
            "frontier-prepare",
            lambda: escalation.prepare(workspace, question, conversation_id=conversation),
        )
        self.task.item.connect(self._review)
        self.task.failed.connect(panel.message.emit)
        self.task.finished.connect(self._prepared)

    def _prepared(self) -> None:  # GUI thread
        self.task = None
        self.button.setEnabled(self.allowed and not self._panel.answering)

    def _review(self, prepared: object) -> None:  # GUI thread
        assert isinstance(prepared, PreparedQuestion)
        if not self._dialogs.review_outgoing(prepared.outgoing):
            self._panel.message.emit("Nothing was sent.")
            return
        panel, escalation = self._panel, self._escalation
        panel.show_question(prepared.question)
        panel.run_answer(
            lambda cancel: escalation.send(prepared, True, cancel=cancel),
            f"Sending to {prepared.outgoing.destination}…",
            name="frontier",
        )
