"""`share` and `unshare`: move a workspace's index to the team servers and back, losing nothing.

Share: the local index is opened exclusively (its file lock; recovery runs, so every live
passage has its vector), the shared workspace is created on the team servers (this person its
first member), everything is copied and verified (rag.transfer), and only then is the workspace
marked shared and its local index folder removed. Unshare: the shared index is copied into a
fresh local folder under the workspace's writer lock (no other desktop writes meanwhile),
verified, put in place, and only then removed from the team servers. A failure at any step
leaves the source as it was (and removes the partial copy).
"""

from __future__ import annotations

import shutil
import time
from typing import TYPE_CHECKING

from app.library.workspaces import Workspace, WorkspaceError, WorkspaceRegistry

if TYPE_CHECKING:
    from app.library.team import TeamWorkspaces
    from rag.embedder import Embedder
    from rag.transfer import Progress, TransferReport


def share(
    registry: WorkspaceRegistry,
    workspace: Workspace,
    embedder: Embedder,
    progress: Progress | None = None,
) -> tuple[Workspace, TransferReport]:
    """Move `workspace` to the team servers; the shared workspace and what was copied."""
    from rag.index import WorkspaceIndex
    from rag.transfer import copy_index

    if workspace.shared:
        raise WorkspaceError(f"Workspace '{workspace.name}' is already shared.")
    team = registry.team()
    registry.close_index(workspace.id)
    local = WorkspaceIndex(workspace.index_folder, embedder)  # exclusive; recovers on open
    try:
        team.create(workspace.id, workspace.name)
        try:
            storage = team.storage(workspace.id)
            try:
                with storage.writer:
                    report = copy_index(
                        local.manifest,
                        local.store,
                        storage.manifest,  # type: ignore[arg-type]
                        storage.store,
                        progress,
                    )
            finally:
                storage.store.close()
                storage.manifest.close()
                storage.release()
        except BaseException:
            team.drop(workspace.id)
            raise
        shared = registry.set_shared(workspace, True)
    finally:
        local.close()
    _remove_folder(workspace.index_folder)
    return shared, report


def unshare(
    registry: WorkspaceRegistry, workspace: Workspace, progress: Progress | None = None
) -> tuple[Workspace, TransferReport]:
    """Move a shared workspace back to this computer and off the team servers."""
    from rag.manifest import Manifest
    from rag.store import VectorStore
    from rag.transfer import copy_index

    if not workspace.shared:
        raise WorkspaceError(f"Workspace '{workspace.name}' is not shared.")
    team: TeamWorkspaces = registry.team()
    registry.close_index(workspace.id)
    staging = workspace.folder / "index.unsharing"
    _remove_folder(staging)
    staging.mkdir(parents=True)
    storage = team.storage(workspace.id)
    try:
        with storage.writer:
            manifest = Manifest(staging / "manifest.sqlite3")
            store = VectorStore(staging / "chroma")
            try:
                report = copy_index(storage.manifest, storage.store, manifest, store, progress)
            finally:
                store.close()
                manifest.close()
            if workspace.index_folder.exists():  # left from before it was shared: keep it
                stamp = time.strftime("%Y%m%d-%H%M%S")
                workspace.index_folder.rename(workspace.folder / f"index.before-unshare-{stamp}")
            staging.rename(workspace.index_folder)
            local = registry.set_shared(workspace, False)
            team.drop(workspace.id)  # still under the writer lock: no write can slip in
    except BaseException:
        _remove_folder(staging)
        raise
    finally:
        storage.store.close()
        storage.manifest.close()
        storage.release()
    return local, report


def join(registry: WorkspaceRegistry, name_or_id: str) -> Workspace:
    """Add a shared workspace this person is a member of to this computer's list."""
    team = registry.team()
    wanted = name_or_id.strip().lower()
    for info in team.list():
        if wanted in (info.id, info.name.lower()):
            if registry.find(info.id) is not None:
                raise WorkspaceError(f"Workspace '{info.name}' is already on this computer.")
            return registry.attach_shared(info.id, info.name)
    raise WorkspaceError(
        f"There is no shared workspace called {name_or_id!r} that you are a member of."
    )


def _remove_folder(folder: object) -> None:
    from pathlib import Path

    path = Path(str(folder))
    if path.exists():
        shutil.rmtree(path)
