"""Workspaces: one matter, patient or project each, with its own isolated index folder."""

from __future__ import annotations

import json
import math
import re
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import EnclaveError
from rag.index import WorkspaceIndex
from rag.index_types import RecoveryReport
from rag.store import WorkspaceBusyError, is_locked, lock_holder

if TYPE_CHECKING:
    from app.library.team import TeamWorkspaces
    from rag.embedder import Embedder
    from rag.index_types import IngestReport, ProgressCallback, SearchMode
    from rag.manifest import ChunkRow
    from rag.storage import ManifestStore
    from rag.types import DocumentRecord, Hit

_ID_RE = re.compile(r"[^a-z0-9]+")
_NO_RECOVERY = RecoveryReport(0, 0, 0)


class WorkspaceError(EnclaveError):
    """A workspace operation was refused; the message says why in plain words."""


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    created_at: str
    folder: Path
    shared: bool = False  # its index is on the team servers (app.library.team)

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

    def __init__(self, root: Path, team: Callable[[], TeamWorkspaces] | None = None) -> None:
        """`team()`: the team servers, for workspaces that are shared (asked on first use)."""
        self._root = root
        self._team = team
        self._lock = threading.Lock()
        self._open: dict[str, WorkspaceIndex] = {}
        self._readers: dict[str, ReadOnlyIndex] = {}
        self._retired: list[ReadOnlyIndex] = []

    def list(self) -> list[Workspace]:
        if not self._root.exists():
            return []
        found = [
            self._read(p) for p in sorted(self._root.iterdir()) if (p / "workspace.json").exists()
        ]
        return sorted(found, key=lambda w: w.name.lower())

    def get(self, name_or_id: str) -> Workspace:
        """The workspace with this id, or this display name (case-insensitive)."""
        found = self.find(name_or_id)
        if found is None:
            raise WorkspaceError(
                f"There is no workspace called {name_or_id!r} (workspaces: {self._known()}). "
                "Create it with: enclave workspaces create NAME"
            )
        return found

    def find(self, name_or_id: str) -> Workspace | None:
        wid = workspace_id_for(name_or_id)
        if (self._root / wid / "workspace.json").exists():
            return self._read(self._root / wid)
        wanted = name_or_id.strip().lower()
        return next((w for w in self.list() if w.name.lower() == wanted), None)

    def require(self, name: str, *, create: bool) -> Workspace:
        """The workspace `name`; a new one only when `create` (the CLI's --create): a typo
        must never make a workspace silently."""
        found = self.find(name)
        if found is not None:
            return found
        if create:
            return self.create(name)
        raise WorkspaceError(
            f"There is no workspace called {name!r} (workspaces: {self._known()}); "
            "add --create to make it."
        )

    def _known(self) -> str:
        return ", ".join(w.name for w in self.list()) or "none yet"

    def exists(self, name_or_id: str) -> bool:
        try:
            return self.find(name_or_id) is not None
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
        taken = self.find(new_name)
        if taken is not None and taken.id != ws.id:
            raise WorkspaceError(
                f"A workspace called {taken.name!r} already exists; choose another name."
            )
        meta = {"id": ws.id, "name": new_name.strip(), "created_at": ws.created_at}
        self._write(ws.folder, meta | ({"shared": True} if ws.shared else {}))
        return self._read(ws.folder)

    def set_shared(self, workspace: Workspace, shared: bool) -> Workspace:
        """Record that the workspace's index now lives on the team servers (or here again)."""
        meta = {"id": workspace.id, "name": workspace.name, "created_at": workspace.created_at}
        self._write(workspace.folder, meta | ({"shared": True} if shared else {}))
        return self._read(workspace.folder)

    def attach_shared(self, workspace_id: str, name: str) -> Workspace:
        """A workspace entry on this computer for a shared workspace (its index stays there)."""
        ws = self.create(name)
        if ws.id != workspace_id:
            shutil.rmtree(ws.folder)
            raise WorkspaceError(f"The shared workspace {name!r} cannot be added here.")
        return self.set_shared(ws, True)

    def team(self) -> TeamWorkspaces:
        from app.library.team import NO_TEAM, TeamUnavailable

        if self._team is None:
            raise TeamUnavailable(NO_TEAM)
        return self._team()

    def delete(self, name_or_id: str) -> Workspace:
        """Delete the workspace's index and manifest. Conversations are removed by the caller."""
        ws = self.get(name_or_id)
        self.close_index(ws.id)
        shutil.rmtree(ws.folder)
        return ws

    def close_index(self, workspace_id: str) -> None:
        """Close the workspace's index if this process has it open (before deleting it, or
        so that an idle process does not keep others out of the workspace)."""
        with self._lock:
            index = self._open.pop(workspace_id, None)
            reader = self._readers.pop(workspace_id, None)
        for opened in (index, reader):
            if opened is not None:
                opened.close()

    def index(self, workspace: Workspace, embedder: Embedder) -> WorkspaceIndex:
        """The workspace's index, opened once per process (chroma wants one client per folder).

        While another process holds the workspace (an ingest), this answers at once with a
        ReadOnlyIndex: the documents committed so far, searched by their words (re-ranked with
        `embedder`), every write refused with a sentence. The next call tries again."""
        with self._lock:
            index = self._open.get(workspace.id)
            if index is not None:
                return index
            if workspace.shared:  # the database serialises writers: no reader fallback
                index = self.team().open_index(workspace.id, embedder)
                self._open[workspace.id] = index
                return index
            try:
                index = WorkspaceIndex(workspace.index_folder, embedder)
            except WorkspaceBusyError:
                return self._reader(workspace, embedder)
            retired = self._readers.pop(workspace.id, None)
            if retired is not None:
                self._retired.append(retired)  # a caller may still be reading from it
            self._open[workspace.id] = index
            return index

    def reader(self, workspace: Workspace) -> ReadOnlyIndex:
        """The workspace's documents and word search from its manifest alone, without the
        search model or chromadb, and without locking anyone out (fast: `documents list`)."""
        with self._lock:
            if workspace.shared:
                if workspace.id not in self._readers:
                    manifest = self.team().storage_manifest(workspace.id)
                    self._readers[workspace.id] = ReadOnlyIndex(workspace, None, manifest)
                return self._readers[workspace.id]
            return self._reader(workspace, None)

    def _reader(self, workspace: Workspace, embedder: Embedder | None) -> ReadOnlyIndex:
        reader = self._readers.get(workspace.id)
        if reader is None or (embedder is not None and reader.embedder_missing):
            if reader is not None:
                self._retired.append(reader)
            reader = ReadOnlyIndex(workspace, embedder)
            self._readers[workspace.id] = reader
        return reader

    def busy(self, workspace: Workspace) -> str | None:
        """One sentence when another process holds the workspace now (who, since when)."""
        if workspace.id in self.open_ids() or workspace.shared:  # shared: readers never wait
            return None
        lock = workspace.index_folder / ".lock"
        return busy_sentence(workspace) if is_locked(lock) else None

    def wait_until_free(
        self, workspace: Workspace, on_wait: Callable[[str], None], poll_s: float = 0.5
    ) -> None:
        """Block while another process holds the workspace; `on_wait(sentence)` once first.
        A shared workspace: while another computer holds its writer lock (the database's)."""

        def busy() -> str | None:
            if not workspace.shared:
                return self.busy(workspace)
            if not self.team().writer_busy(workspace.id):
                return None
            return f"Workspace '{workspace.name}' is being written from another computer"

        sentence = busy()
        if sentence is None:
            return
        on_wait(sentence)
        while busy() is not None:
            time.sleep(poll_s)

    def serves_read_only(self, workspace_id: str) -> bool:
        """Whether this process reads the workspace from its manifest alone (a ReadOnlyIndex)."""
        with self._lock:
            return workspace_id in self._readers and workspace_id not in self._open

    def open_ids(self) -> tuple[str, ...]:
        """The ids of the workspaces whose index this process has open."""
        with self._lock:
            return tuple(sorted(self._open))

    def close(self) -> None:
        with self._lock:
            indexes: list[WorkspaceIndex] = [*self._open.values(), *self._readers.values()]
            indexes += self._retired
            self._open.clear()
            self._readers.clear()
            self._retired.clear()
        for index in indexes:
            index.close()

    @staticmethod
    def _read(folder: Path) -> Workspace:
        meta = json.loads((folder / "workspace.json").read_text(encoding="utf-8"))
        return Workspace(
            id=meta["id"],
            name=meta["name"],
            created_at=meta["created_at"],
            folder=folder,
            shared=bool(meta.get("shared", False)),
        )

    @staticmethod
    def _write(folder: Path, meta: dict[str, str | bool]) -> None:
        tmp = folder / "workspace.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        tmp.replace(folder / "workspace.json")


def busy_sentence(workspace: Workspace) -> str:
    holder = lock_holder(workspace.index_folder / ".lock")
    return (
        f"Workspace '{workspace.name}' is in use by another Enclave process{holder} until it "
        "finishes"
    )


class ReadOnlyIndex(WorkspaceIndex):
    """A workspace index read from its SQLite manifest alone: no chromadb, no lock, no write.

    What a reader gets while another process writes the workspace (chroma allows one process
    per folder; SQLite's WAL lets this read what is committed, never half a document), and what
    `documents list` uses. Search is by words (BM25); given the search model, the candidates are
    re-ranked by meaning as well (their cosine similarity, as the full index would compute it).
    Writes raise WorkspaceBusyError with a sentence.
    """

    def __init__(
        self,
        workspace: Workspace,
        embedder: Embedder | None = None,
        manifest: ManifestStore | None = None,
    ) -> None:
        """`manifest`: read this one (a shared workspace's) instead of the folder's."""
        from rag.manifest import Manifest  # no super().__init__(): nothing of chroma is opened

        self.workspace = workspace
        self.root = workspace.index_folder
        self.embedder_missing = embedder is None
        self._embedder = embedder
        path = self.root / "manifest.sqlite3"
        self._manifest: ManifestStore | None = manifest
        if manifest is None and path.exists():
            self._manifest = Manifest(path, read_only=True)
        self.last_recovery = _NO_RECOVERY

    @property
    def manifest(self) -> ManifestStore:  # type: ignore[override]
        if self._manifest is None:
            raise WorkspaceBusyError(f"Workspace '{self.workspace.name}' has no index yet.")
        return self._manifest

    def documents(self) -> list[DocumentRecord]:
        return [] if self._manifest is None else super().documents()

    def search(
        self,
        query: str,
        k: int = 5,
        mode: SearchMode = "hybrid",
        documents: Sequence[str] | None = None,
    ) -> list[Hit]:
        if k <= 0 or not query.strip() or self._manifest is None:
            return []
        depth = max(4 * k, 20)
        found = (
            self._manifest.lexical(query, depth)
            if documents is None
            else self._manifest.lexical(query, depth, documents)
        )
        rows = self._manifest.live_chunks([cid for cid, _ in found])
        lexical = [(cid, score) for cid, score in found if cid in rows]
        sims = self._similarities(query, lexical, rows) if mode != "lexical" else {}
        ranked = _fuse(lexical, sims, k)
        ranks = {cid: n for n, (cid, _) in enumerate(lexical, start=1)}
        return [_hit(rows[cid], score, sims.get(cid), ranks[cid]) for cid, score in ranked]

    def _similarities(
        self, query: str, lexical: Sequence[tuple[str, float]], rows: dict[str, ChunkRow]
    ) -> dict[str, float]:
        if self._embedder is None or not lexical:
            return {}
        vectors = self._embedder.embed([query] + [rows[cid].chunk.text for cid, _ in lexical])
        return {
            cid: _cosine(vectors[0], v) for (cid, _), v in zip(lexical, vectors[1:], strict=True)
        }

    def ingest_file(self, path: Path, **_: object) -> IngestReport:
        raise self._refusal()

    def ingest_parsed(self, path: Path, *_: object, **__: object) -> IngestReport:
        raise self._refusal()

    def remove(self, doc_id_or_path: str | Path) -> bool:
        raise self._refusal()

    def rebuild_vectors(self, progress: ProgressCallback | None = None) -> int:
        raise self._refusal()

    def _refusal(self) -> WorkspaceBusyError:
        return WorkspaceBusyError(busy_sentence(self.workspace) + "; try again then.")

    def recover(self) -> RecoveryReport:
        return self.last_recovery

    def stats(self) -> dict[str, int | str]:
        return {} if self._manifest is None else dict(self._manifest.counts())

    def close(self) -> None:
        if self._manifest is not None:
            self._manifest.close()


def _fuse(
    lexical: Sequence[tuple[str, float]], sims: dict[str, float], k: int
) -> list[tuple[str, float]]:
    """Lexical order alone, or (with similarities) lexical and meaning ranks fused by RRF."""
    if not sims:
        return list(lexical[:k])
    from rag.fusion import reciprocal_rank_fusion

    by_meaning = sorted(sims, key=lambda cid: -sims[cid])
    return reciprocal_rank_fusion([[cid for cid, _ in lexical], by_meaning], limit=k)


def _hit(row: ChunkRow, score: float, similarity: float | None, rank: int) -> Hit:
    from rag.types import Hit

    return Hit(
        chunk=row.chunk,
        document_name=row.document_name,
        path=row.path,
        score=float(score),
        dense_similarity=similarity,
        lexical_rank=rank,
    )


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
