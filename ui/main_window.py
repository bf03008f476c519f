"""The main window: workspaces and conversations on the left, the chat in the middle, sources,
documents and models on the right, the model and privacy status at the bottom.

It is built from one `Enclave` (the app's composition root) and wires the views to its services.
Slow work runs on the WorkerPool's threads; everything here runs on the GUI thread.

It opens where the person left it (ui.ui_state: the last workspace, each workspace's last
conversation, the side tab). From 1024x700 up the chat column keeps at least half the width:
the side panel (Sources, Documents, Models) gives way first, down to nothing (drag it back, or
a citation click brings it back), then the workspace column. Messages float over the content
(ui.message_bar), so they never move the layout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QResizeEvent,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from app.desktop.facade import (
    ChatAnswer,
    Citation,
    WarmUp,
    Workspace,
    WorkspaceError,
    approved_servers,
    checklists,
    hardware_summary,
    import_model,
    installed_models,
    privacy_status,
    run_review,
    set_gpu_layers,
    warm_up,
)
from ui.chat_panel import ChatPanel
from ui.citation_panel import CitationPanel
from ui.conversation_panel import ConversationPanel
from ui.dialogs import Dialogs
from ui.documents_panel import DocumentsPanel, local_paths
from ui.message_bar import MessageBar
from ui.models_panel import ModelsPanel
from ui.review_view import ReviewView
from ui.status_bar import StatusBar
from ui.ui_state import UiState
from ui.workers import Task, WorkerPool
from ui.workspace_panel import WorkspacePanel

if TYPE_CHECKING:
    from app.container import Enclave

PRIVACY_POLL_MS = 2000
LEFT_MIN = 190  # the workspaces and conversations column, before it gives way
SIDE_MIN = 280  # the side panel, before it collapses
CHAT_SHARE = 0.5  # the chat column's least share of the width


class MainWindow(QMainWindow):
    warm_up_progress = Signal(str)  # emitted on the warm-up thread, shown on the GUI thread
    ready = Signal(object)  # WarmUp, once the model and the search model are loaded
    startup_failed = Signal(str)

    def __init__(
        self,
        enclave: Enclave,
        *,
        pool: WorkerPool | None = None,
        dialogs: Dialogs | None = None,
        opener: Callable[[QUrl], bool] | None = None,
    ) -> None:
        super().__init__()
        self.enclave = enclave
        self.pool = pool or WorkerPool(self)
        self.dialogs = dialogs or Dialogs(self)
        if self.dialogs.parent is None:
            self.dialogs.parent = self
        self._opener = opener
        self.warm: WarmUp | None = None
        self.warm_task: Task | None = None
        self._closing = False
        self._restoring = False
        self._shown = False
        self.ui_state = UiState.load(enclave.paths.config)
        self.setWindowTitle("Enclave")
        self.setAccessibleName("Enclave")
        self.resize(1320, 820)
        self.setAcceptDrops(True)
        self._build()
        self._wire()

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        e, pool, dialogs = self.enclave, self.pool, self.dialogs
        self.workspaces = WorkspacePanel(
            e.workspaces, self._delete_workspace,
            lambda ws: len(e.history.conversations(ws.id)), dialogs,
        )  # fmt: skip
        self.conversations = ConversationPanel(e.history)
        self.chat = ChatPanel(e.chat, e.history, pool, dialogs, frontier=e.frontier)
        self.citations = CitationPanel(pool, e.index, self._opener)
        self.documents = DocumentsPanel(pool, e.index, lambda: e.parse_limits, dialogs)
        self.models = ModelsPanel(
            pool,
            lambda: installed_models(e),
            lambda: hardware_summary(e),
            lambda path, domain, progress: import_model(
                e, path, domains=(domain,), progress=progress
            ),
            lambda n: set_gpu_layers(e, n),
            dialogs,
            list_servers=lambda: approved_servers(e),
        )
        self.review = ReviewView(
            pool,
            lambda ws, questions, per_document, cancel, finish: run_review(
                e, ws, questions, per_document=per_document, cancel=cancel, finish=finish
            ),
            checklists,
            dialogs,
        )
        self.status = StatusBar()
        self.setStatusBar(self.status)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.workspaces)
        left.addWidget(self.conversations)
        left.setSizes([170, 570])
        left.setChildrenCollapsible(False)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Sources, documents and models")
        self.tabs.addTab(self.citations, "Sources")
        self.tabs.addTab(self.documents, "Documents")
        self.tabs.addTab(self.models, "Models")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.center = QTabWidget()  # the chat, and the Review view (a checklist's table)
        self.center.setAccessibleName("Chat and review")
        self.center.setDocumentMode(True)
        self.center.addTab(self.chat, "Chat")
        self.center.addTab(self.review, "Review")
        self.splitter.addWidget(self.center)
        self.splitter.addWidget(self.tabs)
        self.splitter.setSizes([250, 640, 430])
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setCollapsible(2, True)  # the side panel gives way first
        self.tabs.setMinimumWidth(SIDE_MIN)
        left.setMinimumWidth(LEFT_MIN)
        self.chat.setMinimumWidth(360)
        left.setContentsMargins(8, 8, 0, 8)
        self.left = left

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.message_bar = MessageBar(central)  # floats over the content: not in the layout
        tab = next(
            (i for i in range(self.tabs.count()) if self.tabs.tabText(i) == self.ui_state.tab),
            -1,
        )
        if tab >= 0:
            self.tabs.setCurrentIndex(tab)
        self.workspaces.preferred = self.ui_state.workspace

        self.privacy_timer = QTimer(self)
        self.privacy_timer.setInterval(PRIVACY_POLL_MS)
        self.privacy_timer.timeout.connect(self.refresh_privacy)

    def _wire(self) -> None:
        self.workspaces.workspace_selected.connect(self.set_workspace)
        self.conversations.conversation_selected.connect(self.chat.open_conversation)
        self.conversations.conversation_selected.connect(self._remember_conversation)
        self.conversations.new_chat_requested.connect(self.new_chat)
        self.chat.conversation_changed.connect(self.conversations.select)
        self.chat.conversation_changed.connect(self._remember_conversation)
        self.documents.documents_changed.connect(self._documents_changed)
        self.tabs.currentChanged.connect(
            lambda i: self.ui_state.set_tab(self.tabs.tabText(i)) if not self._closing else None
        )
        self.chat.citation_clicked.connect(self.show_citation)
        self.review.citation_clicked.connect(self.show_citation)
        self.chat.answer_finished.connect(self._answer_finished)
        views = (self.workspaces, self.chat, self.citations, self.documents, self.models)
        for view in (*views, self.review):
            view.message.connect(self.show_message)
        self.warm_up_progress.connect(self.status.set_loading)

        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.chat.stop)
        QShortcut(QKeySequence.StandardKey.New, self, self.new_chat)
        QShortcut(QKeySequence.StandardKey.Open, self, self.documents.choose_files)
        QShortcut(QKeySequence.StandardKey.Find, self, self.conversations.search.setFocus)

    # -- start-up -------------------------------------------------------------------------
    def start(self) -> None:
        """Show data and start loading models in the background. Call once the window shows."""
        self.refresh_privacy()
        self.privacy_timer.start()
        try:
            self.workspaces.load()
        except (WorkspaceError, OSError) as exc:
            self.show_message(f"The workspaces could not be read: {exc}")
        self.status.set_loading("Loading the model…")
        self.warm_task = self.pool.start(
            "warm-up", lambda: warm_up(self.enclave, self.warm_up_progress.emit)
        )
        self.warm_task.item.connect(self._warmed)
        self.warm_task.failed.connect(self._warm_up_failed)
        self.models.refresh_hardware()

    def _warmed(self, result: WarmUp) -> None:
        self.warm = result
        self.warm_task = None
        self.status.set_model(result.model_id, result.device)
        self.chat.set_ready()
        self.review.set_ready()
        self.models.refresh()
        self.ready.emit(result)

    def _warm_up_failed(self, message: str) -> None:
        self.warm_task = None
        self.status.set_failed(message)
        self.chat.set_unavailable(message)
        self.review.set_unavailable(message)
        self.show_message(f"Enclave could not load its model: {message}")
        self.models.refresh()
        self.startup_failed.emit(message)

    # -- workspace and conversations ------------------------------------------------------
    def set_workspace(self, workspace: Workspace | None) -> None:
        self.chat.set_workspace(workspace)
        self.conversations.set_workspace(workspace)
        self.documents.set_workspace(workspace)
        self.review.set_workspace(workspace)
        self.citations.clear_citation()
        self.setWindowTitle(f"{workspace.name} – Enclave" if workspace else "Enclave")
        if workspace is not None:
            self.ui_state.set_workspace(workspace.id)
            self._restore_conversation(workspace)

    def _restore_conversation(self, workspace: Workspace) -> None:
        """Open the conversation the person last had open in this workspace (if it is still
        there)."""
        wanted = self.ui_state.conversation(workspace.id)
        if not wanted:
            return
        known = {c.id for c in self.enclave.history.conversations(workspace.id)}
        if wanted not in known:
            self.ui_state.set_conversation(workspace.id, None)
            return
        self._restoring = True
        try:
            self.conversations.select(wanted)
            self.chat.open_conversation(wanted)
        finally:
            self._restoring = False

    def _remember_conversation(self, conversation_id: str | None) -> None:
        ws = self.workspace
        if ws is not None and not self._restoring and not self._closing:
            self.ui_state.set_conversation(ws.id, conversation_id)

    def _documents_changed(self) -> None:
        docs = self.documents.model.items()
        self.chat.set_document_count(sum(1 for d in docs if d.chunk_count > 0))

    @property
    def workspace(self) -> Workspace | None:
        return self.workspaces.current

    def _delete_workspace(self, workspace_id: str) -> Workspace:
        ws = self.workspaces.current
        if self.documents.ingest_task is not None:
            raise WorkspaceError("Documents are still being added; cancel that first.")
        if self.chat.task is not None:
            raise WorkspaceError("An answer is still being written; stop it first.")
        if self.review.running:
            raise WorkspaceError("A review is still running; cancel it first.")
        if ws is not None and ws.id == workspace_id:
            self.documents.set_workspace(None)
        return self.enclave.delete_workspace(workspace_id)

    def new_chat(self) -> None:
        self.conversations.clear_selection()
        self.chat.new_chat()
        self._remember_conversation(None)

    # -- layout ---------------------------------------------------------------------------
    def side_panel_collapsed(self) -> bool:
        return self.splitter.sizes()[2] == 0

    def show_side_panel(self) -> None:
        """Bring back a collapsed side panel, taking its width from the chat column."""
        left, chat, side = self.splitter.sizes()
        if side == 0:
            take = min(SIDE_MIN, max(0, chat - self.chat.minimumWidth()))
            if take >= SIDE_MIN:
                self.splitter.setSizes([left, chat - take, take])

    def fit_columns(self) -> None:
        """Give the chat column at least half the width: shrink the side panel first (then
        collapse it), then the workspace column."""
        left, chat, side = self.splitter.sizes()
        total = left + chat + side
        if total <= 0:
            return
        want = min(total, int(self.width() * CHAT_SHARE) + 8)  # half the window, not the splitter
        if chat >= want:
            # wider again: give the side panel back its share (unless it was collapsed)
            target = max(SIDE_MIN, min(460, int(self.width() * 0.30)))
            if 0 < side < target:
                give = min(target - side, chat - want)
                self.splitter.setSizes([left, chat - give, side + give])
            return
        need = want - chat
        give = min(need, max(0, side - SIDE_MIN))
        side, chat, need = side - give, chat + give, need - give
        give = min(need, max(0, left - LEFT_MIN))
        left, chat, need = left - give, chat + give, need - give
        if need > 0 and side > 0:  # still too narrow: the side panel goes
            chat, side = chat + side, 0
        self.splitter.setSizes([left, chat, side])

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown:  # first shown: columns in proportion to the window's width
            self._shown = True
            width = max(1, sum(self.splitter.sizes()))
            left = max(LEFT_MIN, min(270, int(width * 0.19)))
            side = max(SIDE_MIN, min(460, int(width * 0.30)))
            self.splitter.setSizes([left, max(0, width - left - side), side])
            self.fit_columns()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def show_citation(self, citation: Citation) -> None:
        ws = self.workspace
        if ws is None:
            return
        self.show_side_panel()
        self.tabs.setCurrentWidget(self.citations)
        self.citations.show_citation(ws, citation)

    def _answer_finished(self, answer: ChatAnswer) -> None:
        self.refresh_privacy()
        if answer.citations and self.tabs.currentWidget() is self.citations:
            self.citations.set_hint(f"{len(answer.citations)} sources: click [1] to see the first.")

    # -- messages and status --------------------------------------------------------------
    def show_message(self, text: str) -> None:
        lowered = text.lower()
        if text.startswith(
            ("Saved", "Removed", "Deleted", "Opened", "Copied", "The answer and")
        ) or ("copied" in lowered):
            self.message_bar.show_info(text)
        else:
            self.message_bar.show_error(text)

    def refresh_privacy(self) -> None:
        self.status.set_privacy(privacy_status(self.enclave))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._closing:
            self.chat.rerender()

    # -- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.workspace is not None and local_paths(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.add_documents(paths)

    def add_documents(self, paths: list[Path]) -> Task | None:
        self.show_side_panel()
        self.tabs.setCurrentWidget(self.documents)
        return self.documents.add_paths(paths)

    # -- closing --------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop timers, cancel every task and wait for its thread. Idempotent."""
        self._closing = True
        self.privacy_timer.stop()
        self.pool.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.pool.busy():
            self.status.set_loading("Closing: finishing the current step…")
        self.shutdown()
        super().closeEvent(event)
