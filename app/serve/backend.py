"""What the API serves, from the composition root: the workspaces, the installed local models,
and the answers (ChatService.ask through app.serve.dispatch)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from app.chat.types import EvidenceFound, RouteDecided
from app.serve.dispatch import Answering
from app.serve.errors import ServeError
from app.serve.names import PREFIX, Target, model_names

if TYPE_CHECKING:
    from app.chat.types import AskOptions, ChatEvent
    from app.container import Enclave
    from app.library.workspaces import Workspace
    from models.types import CancelToken

__all__ = ["EnclaveBackend"]


class EnclaveBackend:
    """The served workspaces (all of them, or the one of `--workspace`) and models."""

    def __init__(self, enclave: Enclave, workspace: str | None = None, *, max_pending: int = 16):
        """`workspace`: serve this workspace only (it must exist); None: every workspace."""
        self._enclave = enclave
        self.only: Workspace | None = enclave.workspaces.get(workspace) if workspace else None
        self.answering = Answering(self._ask, enclave.indexes.release, max_pending=max_pending)
        self._load_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the search model and the default chat model now (it also checks them), so the
        first clients do not wait for them and no two requests load one model twice."""
        self._enclave.embedder.embed(["warm-up"])
        self._enclave.engines.get(self._enclave.settings.default_model)

    def workspaces(self) -> list[Workspace]:
        return [self.only] if self.only else self._enclave.workspaces.list()

    def model_ids(self) -> list[str]:
        """The installed local models questions may go to (not those found degenerate)."""
        return [r.id for r in self._enclave.catalog.routable()]

    def model_names(self) -> list[str]:
        names = model_names([w.id for w in self.workspaces()], self.model_ids())
        if self.only is not None:  # plain "enclave" means the one served workspace
            names = [PREFIX, *(f"{PREFIX}::{m}" for m in self.model_ids()), *names]
        return names

    def resolve(self, target: Target, conversation_id: str | None) -> Workspace:
        """The workspace a request names (or the served one); checks its model and
        conversation. ServeError (404) for what does not exist or is not served."""
        if target.workspace is None:
            if self.only is None:
                raise ServeError(
                    "Name a workspace: model 'enclave:<workspace>' or the \"workspace\" field "
                    "(GET /v1/models lists them).",
                    param="model",
                )
            workspace = self.only
        else:
            found = self._enclave.workspaces.find(target.workspace)
            if found is None or (self.only is not None and found.id != self.only.id):
                raise ServeError(
                    f"There is no workspace {target.workspace!r} on this server (GET /v1/models "
                    "lists them).",
                    status=404, code="model_not_found", param="model",
                )  # fmt: skip
            workspace = found
        if target.model_id is not None and target.model_id not in self.model_ids():
            raise ServeError(
                f"There is no usable local model {target.model_id!r} (installed: "
                f"{', '.join(self.model_ids()) or 'none'}).",
                status=404, code="model_not_found", param="model",
            )  # fmt: skip
        if conversation_id:
            self._check_conversation(conversation_id, workspace)
        return workspace

    def _check_conversation(self, conversation_id: str, workspace: Workspace) -> None:
        from app.library.history import ConversationNotFound

        try:
            conv = self._enclave.history.conversation(conversation_id)
        except ConversationNotFound:
            conv = None
        if conv is None or conv.workspace_id != workspace.id:
            raise ServeError(
                f"There is no conversation {conversation_id!r} in workspace {workspace.id!r}.",
                status=404, param="conversation_id",
            )  # fmt: skip

    def _ask(
        self, workspace: Workspace, question: str, options: AskOptions, cancel: CancelToken
    ) -> Iterator[ChatEvent]:
        """ChatService.ask; once the route is decided (and the evidence means the model will
        be asked), its model is loaded here, one request at a time."""
        found = False
        for event in self._enclave.chat.ask(workspace, question, options, cancel=cancel):
            if isinstance(event, EvidenceFound):
                found = bool(event.evidence)
            elif isinstance(event, RouteDecided) and found:
                self._load_once(event.route.model_id)
            yield event

    def _load_once(self, model_id: str) -> None:
        """EngineManager.get does not wait for a load already under way, so two first
        requests for one model would load it twice (two inference threads for one model)."""
        with self._load_lock:
            if model_id not in self._enclave.engines.loaded():
                self._enclave.engines.get(model_id)
