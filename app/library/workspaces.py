"""Workspaces: one matter, patient or project each, with its own isolated index folder."""

from __future__ import annotations

import json
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import EnclaveError

if TYPE_CHECKING:
    from rag.embedder import Embedder
    from rag.index import WorkspaceIndex

_ID_RE = re.compile(r"[^a-z0-9]+")


class WorkspaceError(EnclaveError):
    """A workspace operation was refused; the message says why in plain words."""


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    created_at: str
    folder: Path

    @property
    def index_folder(self) -> Path:
        return self.folder / "index"


def workspace_id_for(name: str) -> str:
    """A folder-safe id from a display name: 'ACME v. Smith (2024)' -> 'acme-v-smith-2024'."""
    slug = _ID_RE.sub("-", name.strip().lower()).strip("-")
    if not slug:
        raise WorkspaceError(f"{name!r} is not a usable workspace name: use letters or digits.")
    return slug[:64]


class WorkspaceRegistry:
    """Creates, lists, renames and deletes workspaces, and opens their indexes (cached)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._open: dict[str, WorkspaceIndex] = {}

    def list(self) -> list[Workspace]:
        if not self._root.exists():
            return []
        found = [
            self._read(p) for p in sorted(self._root.iterdir()) if (p / "workspace.json").exists()
        ]
        return sorted(found, key=lambda w: w.name.lower())

    def get(self, name_or_id: str) -> Workspace:
        wid = workspace_id_for(name_or_id)
        meta = self._root / wid / "workspace.json"
        if not meta.exists():
            known = ", ".join(w.name for w in self.list()) or "none yet"
            raise WorkspaceError(
                f"There is no workspace called {name_or_id!r} (workspaces: {known}). "
                "Create it with: enclave workspaces create NAME"
            )
        return self._read(self._root / wid)

    def exists(self, name_or_id: str) -> bool:
        try:
            return (self._root / workspace_id_for(name_or_id) / "workspace.json").exists()
        except WorkspaceError:
            return False

    def create(self, name: str) -> Workspace:
        wid = workspace_id_for(name)
        folder = self._root / wid
        if (folder / "workspace.json").exists():
            raise WorkspaceError(f"A workspace called {name!r} already exists.")
        folder.mkdir(parents=True, exist_ok=True)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        self._write(folder, {"id": wid, "name": name.strip(), "created_at": created})
        return self._read(folder)

    def get_or_create(self, name: str) -> Workspace:
        return self.get(name) if self.exists(name) else self.create(name)

    def rename(self, name_or_id: str, new_name: str) -> Workspace:
        """Change the display name; the id (and folder) stays, so nothing moves on disk."""
        ws = self.get(name_or_id)
        if not new_name.strip():
            raise WorkspaceError("A workspace needs a name.")
        self._write(ws.folder, {"id": ws.id, "name": new_name.strip(), "created_at": ws.created_at})
        return self._read(ws.folder)

    def delete(self, name_or_id: str) -> Workspace:
        """Delete the workspace's index and manifest. Conversations are removed by the caller."""
        ws = self.get(name_or_id)
        self.close_index(ws.id)
        shutil.rmtree(ws.folder)
        return ws

    def close_index(self, workspace_id: str) -> None:
        """Close the workspace's index if this process has it open (before deleting it)."""
        with self._lock:
            index = self._open.pop(workspace_id, None)
        if index is not None:
            index.close()

    def index(self, workspace: Workspace, embedder: Embedder) -> WorkspaceIndex:
        """The workspace's index, opened once per process (chroma wants one client per folder)."""
        with self._lock:
            index = self._open.get(workspace.id)
            if index is None:
                from rag.index import WorkspaceIndex

                index = WorkspaceIndex(workspace.index_folder, embedder)
                self._open[workspace.id] = index
            return index

    def open_ids(self) -> tuple[str, ...]:
        """The ids of the workspaces whose index this process has open."""
        with self._lock:
            return tuple(sorted(self._open))

    def close(self) -> None:
        with self._lock:
            indexes = list(self._open.values())
            self._open.clear()
        for index in indexes:
            index.close()

    @staticmethod
    def _read(folder: Path) -> Workspace:
        meta = json.loads((folder / "workspace.json").read_text(encoding="utf-8"))
        return Workspace(
            id=meta["id"], name=meta["name"], created_at=meta["created_at"], folder=folder
        )

    @staticmethod
    def _write(folder: Path, meta: dict[str, str]) -> None:
        tmp = folder / "workspace.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        tmp.replace(folder / "workspace.json")
