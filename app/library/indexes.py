"""Where the workspace indexes and the document search model live: in this process
(`LocalIndexes`, the command line and tests) or in the desktop's worker process
(`app.desktop.worker.WorkerIndexes`). The composition root takes either (`Enclave(indexes=...)`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.library.workspaces import Workspace, WorkspaceRegistry
    from rag.embedder import Embedder
    from rag.index_types import DocumentIndex

__all__ = ["IndexHost", "LocalIndexes"]


class IndexHost(Protocol):
    """The search model and the workspace indexes, wherever they run."""

    def embedder(self) -> Embedder:
        """Slow the first time: the document search model (loaded once)."""
        ...

    def index(self, workspace: Workspace) -> DocumentIndex:
        """The workspace's index (opened once per host)."""
        ...

    def release(self, workspace_id: str) -> None:
        """Close the workspace's index, if open, before its folder is deleted."""
        ...

    def close(self) -> None: ...


class LocalIndexes:
    """Indexes opened in this process, with the search model loaded here (or the one given)."""

    def __init__(self, registry: WorkspaceRegistry, embedder: Embedder | None = None) -> None:
        self._registry = registry
        self._embedder = embedder
        self._lock = threading.Lock()

    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from rag.embedder import SentenceTransformerEmbedder, default_embedder_path

                self._embedder = SentenceTransformerEmbedder(default_embedder_path())
            return self._embedder

    def index(self, workspace: Workspace) -> DocumentIndex:
        return self._registry.index(workspace, self.embedder())

    def release(self, workspace_id: str) -> None:
        self._registry.close_index(workspace_id)

    def close(self) -> None:
        self._registry.close()
