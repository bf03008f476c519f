"""The composition root: builds every app service from paths and settings, once.

Entry points (CLI, desktop, bundle self-test, tests) create one `Enclave` and pass its services
on; nothing else constructs services. Heavy parts (embedder, models, indexes) load on first use.
The replaceable parts are arguments (`embedder=`, `indexes=`): tests pass a loaded search model,
the desktop passes the worker process's `WorkerIndexes`. The entry point, not this constructor,
points the egress guard at the ledger (`app.bootstrap.record_egress`).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from app.chat.engines import EngineManager
from app.chat.service import ChatService
from app.library.history import HistoryStore
from app.library.indexes import IndexHost, LocalIndexes
from app.library.workspaces import Workspace, WorkspaceRegistry
from app.paths import Paths
from app.settings import Settings

if TYPE_CHECKING:
    from app.chat.servers import InferenceServers
    from app.frontier.keys import KeyStore
    from app.frontier.route import FrontierRoute
    from app.library.team import TeamWorkspaces
    from app.privacy.ledger import AuditLedger
    from app.privacy.policy import Policy
    from app.routing.router import Router
    from models.catalog import ModelCatalog
    from rag.embedder import Embedder
    from rag.index_types import DocumentIndex
    from rag.limits import ParseLimits


class Enclave:
    def __init__(
        self,
        paths: Paths | None = None,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        indexes: IndexHost | None = None,
    ) -> None:
        """`embedder`: a loaded search model to use instead of loading one (in this process).
        `indexes`: where the indexes and the search model live (default: this process)."""
        self.paths = (paths or Paths.from_env()).ensure()
        self.settings = settings or Settings.load(self.paths.settings_file)
        self.indexes: IndexHost = indexes or LocalIndexes(self.workspaces, embedder)

    # -- privacy -------------------------------------------------------------------------
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
    def keys(self) -> KeyStore:
        """API keys for approved frontier endpoints (the OS keyring, or this session's memory)."""
        from app.frontier.keys import KeyStore

        return KeyStore()

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
    def servers(self) -> InferenceServers:
        """The organisation's inference servers named in the policy (app.chat.servers)."""
        from app.chat.servers import InferenceServers

        return InferenceServers(lambda: self.policy, lambda: self.keys, lambda: self.ledger)

    @cached_property
    def engines(self) -> EngineManager:
        return EngineManager(
            self.catalog,
            n_ctx=self.settings.n_ctx,
            n_threads=self.settings.n_threads,
            n_gpu_layers=self.settings.n_gpu_layers,
            servers=self.servers,
            fallback_model=self.settings.default_model,
        )

    # -- documents -----------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """Slow the first time: the document search model, wherever the indexes live."""
        return self.indexes.embedder()

    @cached_property
    def workspaces(self) -> WorkspaceRegistry:
        return WorkspaceRegistry(self.paths.workspaces_dir, team=lambda: self.team)

    @cached_property
    def team(self) -> TeamWorkspaces:
        """The policy's team servers for shared workspaces (nothing connects until used)."""
        from app.library.team import TeamWorkspaces
        from app.privacy.egress import GUARD, EgressEvent

        def record(host: str, port: int) -> None:  # libpq connects outside the Python guard
            if GUARD.recorder is not None:
                GUARD.recorder(EgressEvent(host=host, port=port, kind="connect", allowed=True))

        return TeamWorkspaces(self.policy.team, self.keys, record=record)

    def index(self, workspace: Workspace) -> DocumentIndex:
        """The workspace's index: what chat, ingestion, search and the window use."""
        return self.indexes.index(workspace)

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
            ocr_timeout_s=lim.parse_ocr_timeout_s,
        )

    # -- conversations -------------------------------------------------------------------
    @cached_property
    def history(self) -> HistoryStore:
        return HistoryStore(self.paths.history_db)

    @cached_property
    def router(self) -> Router:
        """Specialist, compute tier and frontier offer per question (app.routing.router)."""
        from app.routing.router import RouterConfig, build_router

        return build_router(
            embedder=lambda: self.embedder,
            catalog=self.catalog,
            loaded=lambda: self.engines.loaded(),
            policy=lambda: self.policy,
            config_dir=self.paths.config,
            cache_dir=self.paths.cache,
            config=RouterConfig(answer_tokens=self.settings.max_answer_tokens),
            servers=lambda: self.servers.choices(),
        )

    @cached_property
    def chat(self) -> ChatService:
        return ChatService(
            settings=self.settings,
            history=self.history,
            engines=self.engines,
            index_for=self.index,
            router=self.router,
            embed=lambda texts: self.embedder.embed(texts),
        )

    @cached_property
    def frontier(self) -> FrontierRoute:
        """The approved frontier route for a question the user chose to send (app.frontier)."""
        from app.frontier.gateway import FrontierGateway
        from app.frontier.route import FrontierRoute

        return FrontierRoute(
            self.chat,
            lambda: FrontierGateway(self.policy, self.keys, self.ledger),
            self.history,
            self.settings.top_k_sources,
            self.index,
        )

    def delete_workspace(self, name_or_id: str) -> Workspace:
        """Delete a workspace's index, manifest and conversations."""
        self.indexes.release(self.workspaces.get(name_or_id).id)
        ws = self.workspaces.delete(name_or_id)
        self.history.delete_workspace(ws.id)
        return ws

    def close(self) -> None:
        if "engines" in self.__dict__:
            self.engines.close()
        self.indexes.close()
        if "history" in self.__dict__:
            self.history.close()

    def __enter__(self) -> Enclave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
