"""Where the workspace indexes and the document search model live: in this process
(`LocalIndexes`, the command line and tests) or in the desktop's worker process
(`app.desktop.worker.WorkerIndexes`). The composition root takes either (`Enclave(indexes=...)`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.library.workspaces import Workspace, WorkspaceRegistry
    from rag.embedder import Embedder
    from rag.index_types import DocumentIndex

__all__ = ["IndexHost", "LocalIndexes", "load_search_model"]


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


def load_search_model() -> Embedder:
    """The built-in search model: ONNX Runtime when the install step made its ONNX file (no
    torch imported), else sentence-transformers. ENCLAVE_EMBEDDER_BACKEND=torch|onnx forces one;
    =onnx-int8 chooses the install step's dynamic int8 file (faster, its own vectors: a workspace
    indexed with the other model is re-embedded on open). ENCLAVE_EMBEDDER_ONNX names a file."""
    from rag.embedder import default_embedder_path
    from rag.onnx_embedder import installed_int8_path, installed_onnx_path
    from rag.search_model import load_embedder

    backend = os.environ.get("ENCLAVE_EMBEDDER_BACKEND", "auto").strip().lower() or "auto"
    override = os.environ.get("ENCLAVE_EMBEDDER_ONNX", "").strip()
    if backend == "onnx-int8":
        backend, default = "onnx", installed_int8_path()
    else:
        default = installed_onnx_path()
    onnx_path = Path(override) if override else default
    return load_embedder(default_embedder_path(), onnx_path, backend=backend)


def print_reembed_progress(workspace: Workspace) -> Callable[[int, int], None]:
    """Progress of a re-embedding on stderr (counts only, never text)."""
    shown = [-1]

    def progress(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent // 10 != shown[0] // 10 or done == total:
            shown[0] = percent
            print(
                f"Re-embedding workspace '{workspace.name}' for the current search model: "
                f"{done}/{total} passages ({percent}%).",
                file=sys.stderr,
                flush=True,
            )

    return progress


class LocalIndexes:
    """Indexes opened in this process, with the search model loaded here (or the one given)."""

    def __init__(self, registry: WorkspaceRegistry, embedder: Embedder | None = None) -> None:
        self._registry = registry
        self._embedder = embedder
        self._lock = threading.Lock()

    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_search_model()
            return self._embedder

    def index(self, workspace: Workspace) -> DocumentIndex:
        """The workspace's index. One made with another search model is re-embedded from its
        manifest first (progress on stderr), so an upgraded install keeps every workspace."""
        from rag.manifest import EmbedderMismatchError

        embedder = self.embedder()
        try:
            return self._registry.index(workspace, embedder)
        except EmbedderMismatchError:
            if workspace.shared:  # its index is in the team database: not re-embedded here
                raise
        from rag.reembed import reembed_workspace

        reembed_workspace(workspace.index_folder, embedder, print_reembed_progress(workspace))
        return self._registry.index(workspace, embedder)

    def release(self, workspace_id: str) -> None:
        self._registry.close_index(workspace_id)

    def close(self) -> None:
        self._registry.close()
