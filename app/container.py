"""The composition root: builds every app service from paths and settings, once.

Entry points (CLI, desktop, bundle self-test, tests) create one `Enclave` and pass its services
on; nothing else constructs services. Heavy parts (embedder, models, indexes) load on first use.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from app.chat import ChatService
from app.engines import EngineManager
from app.history import HistoryStore
from app.paths import Paths
from app.settings import Settings
from app.workspaces import Workspace, WorkspaceRegistry

if TYPE_CHECKING:
    from app.escalation import EscalationService
    from app.frontier import FrontierService
    from app.privacy.ledger import AuditLedger
    from app.privacy.policy import Policy
    from app.router import Router
    from app.secrets import SecretStore
    from models.catalog import ModelCatalog
    from rag.embedder import Embedder
    from rag.index import DocumentIndex, WorkspaceIndex
    from rag.limits import ParseLimits


class Enclave:
    def __init__(self, paths: Paths | None = None, settings: Settings | None = None) -> None:
        self.paths = (paths or Paths.from_env()).ensure()
        self.settings = settings or Settings.load(self.paths.settings_file)
        self._embedder_lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._record_egress_in_ledger()

    # -- privacy -------------------------------------------------------------------------
    def _record_egress_in_ledger(self) -> None:
        """Every non-loopback attempt (allowed or refused) becomes a line in the audit ledger."""
        from app.frontier import egress_recorder
        from app.privacy.egress import GUARD

        GUARD.recorder = egress_recorder(self.ledger)

    @cached_property
    def ledger(self) -> AuditLedger:
        from app.privacy.ledger import AuditLedger

        return AuditLedger.for_paths(self.paths)

    @cached_property
    def policy(self) -> Policy:
        """The administrator's policy (no file: no frontier route). Read once per process."""
        from app.privacy.policy import load_policy

        return load_policy(self.paths)

    @cached_property
    def secrets(self) -> SecretStore:
        from app.secrets import SecretStore

        return SecretStore()

    @cached_property
    def frontier(self) -> FrontierService:
        from app.frontier import FrontierService

        return FrontierService(self.policy, self.secrets, self.ledger)

    # -- models --------------------------------------------------------------------------
    @cached_property
    def catalog(self) -> ModelCatalog:
        """The model catalog, with the embedded default model registered (sha256-checked)."""
        from models.catalog import ModelCatalog
        from models.embedded import EMBEDDED_CHAT_SHA256, embedded_chat_model_path

        catalog = ModelCatalog(self.paths.models_dir)
        catalog.ensure_embedded(embedded_chat_model_path(), EMBEDDED_CHAT_SHA256)
        return catalog

    @cached_property
    def engines(self) -> EngineManager:
        return EngineManager(
            self.catalog,
            n_ctx=self.settings.n_ctx,
            n_threads=self.settings.n_threads,
            n_gpu_layers=self.settings.n_gpu_layers,
        )

    # -- documents -----------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                from rag.embedder import SentenceTransformerEmbedder, default_embedder_path

                self._embedder = SentenceTransformerEmbedder(default_embedder_path())
            return self._embedder

    @cached_property
    def workspaces(self) -> WorkspaceRegistry:
        return WorkspaceRegistry(self.paths.workspaces_dir)

    def index(self, workspace: Workspace) -> WorkspaceIndex:
        """The workspace's index, opened in this process (every operation, maintenance too)."""
        return self.workspaces.index(workspace, self.embedder)

    def document_index(self, workspace: Workspace) -> DocumentIndex:
        """What chat, ingestion and the window use; the desktop serves it from its worker."""
        return self.index(workspace)

    @property
    def parse_limits(self) -> ParseLimits:
        from rag.limits import ParseLimits

        lim = self.settings.limits
        return ParseLimits(
            max_file_mb=lim.max_file_mb,
            max_pages=lim.max_pages,
            max_decompressed_mb=lim.max_decompressed_mb,
            timeout_s=lim.parse_timeout_s,
            memory_mb=lim.parse_memory_mb,
        )

    # -- conversations -------------------------------------------------------------------
    @cached_property
    def history(self) -> HistoryStore:
        return HistoryStore(self.paths.history_db)

    @cached_property
    def router(self) -> Router:
        """Specialist, compute tier and escalation per question (app.router)."""
        from app.router import RouterConfig, build_router

        return build_router(
            embedder=lambda: self.embedder,
            catalog=self.catalog,
            loaded=lambda: self.engines.loaded(),
            policy=lambda: self.policy,
            config_dir=self.paths.config,
            cache_dir=self.paths.cache,
            config=RouterConfig(answer_tokens=self.settings.max_answer_tokens),
        )

    @cached_property
    def chat(self) -> ChatService:
        return ChatService(
            settings=self.settings,
            history=self.history,
            engines=self.engines,
            index_for=self.document_index,
            router=self.router,
        )

    @cached_property
    def escalation(self) -> EscalationService:
        """The approved frontier route for a question the user chose to send (app.escalation)."""
        from app.escalation import EscalationService

        return EscalationService(
            self.chat, lambda: self.frontier, self.history, self.settings.top_k_sources
        )

    def delete_workspace(self, name_or_id: str) -> Workspace:
        """Delete a workspace's index, manifest and conversations."""
        ws = self.workspaces.delete(name_or_id)
        self.history.delete_workspace(ws.id)
        return ws

    def close(self) -> None:
        if "engines" in self.__dict__:
            self.engines.close()
        if "workspaces" in self.__dict__:
            self.workspaces.close()
        if "history" in self.__dict__:
            self.history.close()

    def __enter__(self) -> Enclave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_enclave(home: Path | None = None) -> Enclave:
    """An Enclave for `home` (like ENCLAVE_HOME=home) or for the environment's paths."""
    if home is None:
        return Enclave()
    return Enclave(Paths.from_env({"ENCLAVE_HOME": str(home)}))
