"""Re-embed a workspace made with another embedder, from its manifest (nothing stored is lost).

The manifest keeps every chunk's text; the vectors in chroma are derived from it. When the
embedder's identity (`Embedder.name`, or its dimension) differs from the one the manifest
records, `reembed_workspace` sets the old vector folder aside, records the new embedder, and
re-embeds every live chunk, reporting progress. It is safe to kill at any moment:
- before the switch, the workspace still names the old embedder and its vectors are gone:
  opening it with the old embedder rebuilds them (WorkspaceIndex.recover), with the new one
  re-embedding starts again;
- after the switch, opening it with the new embedder embeds whatever chunks still lack a vector.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.store import WorkspaceLock

if TYPE_CHECKING:
    from rag.embedder import Embedder

ReembedProgress = Callable[[int, int], None]  # (chunks done, chunks in all), on the caller's thread


@dataclass(frozen=True)
class ReembedReport:
    old_name: str
    old_dimension: int
    new_name: str
    chunks: int
    seconds: float


def recorded_embedder(root: Path) -> tuple[str, int] | None:
    """(name, dimension) of the embedder the workspace's manifest records, or None if none."""
    path = Path(root) / "manifest.sqlite3"
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        got = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'embedder_%'"))
    finally:
        conn.close()
    if "embedder_name" not in got:
        return None
    return str(got["embedder_name"]), int(got.get("embedder_dimension", "0") or 0)


def needs_reembedding(root: Path, embedder: Embedder) -> bool:
    got = recorded_embedder(root)
    return got is not None and got != (embedder.name, int(embedder.dimension))


def reembed_workspace(
    root: Path, embedder: Embedder, progress: ReembedProgress | None = None
) -> ReembedReport | None:
    """Re-embed the workspace at `root` with `embedder` if it was indexed with another one
    (None when it already matches). Raises WorkspaceBusyError if another process has it open."""
    from rag.index import WorkspaceIndex
    from rag.manifest import Manifest

    root = Path(root)
    started = time.perf_counter()
    aside: Path | None = None
    lock = WorkspaceLock(root / ".lock")
    try:
        manifest = Manifest(root / "manifest.sqlite3")
        try:
            with manifest.transaction() as c:
                got = dict(c.execute("SELECT key, value FROM meta WHERE key LIKE 'embedder_%'"))
            old = (str(got.get("embedder_name", "")), int(got.get("embedder_dimension", "0")))
            if not got or old == (embedder.name, int(embedder.dimension)):
                return None
            total = manifest.live_chunk_count()
            aside = _set_vectors_aside(root)  # first: no old vector is ever read as a new one
            with manifest.transaction() as c:
                c.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('embedder_name', ?)", (embedder.name,)
                )
                c.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('embedder_dimension', ?)",
                    (str(int(embedder.dimension)),),
                )
        finally:
            manifest.close()
    finally:
        lock.release()
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    counting = _CountingEmbedder(embedder, total, progress)
    if progress is not None:
        progress(0, total)
    index = WorkspaceIndex(root, counting)  # recover() embeds every chunk that has no vector
    index.close()
    return ReembedReport(
        old[0], old[1], embedder.name, counting.done, time.perf_counter() - started
    )


def _set_vectors_aside(root: Path) -> Path | None:
    folder = root / "chroma"
    if not folder.exists():
        return None
    aside = root / f"chroma.reembed-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.rename(aside)
    return aside


class _CountingEmbedder:
    """The embedder, reporting how many chunks it has embedded so far."""

    def __init__(self, inner: Embedder, total: int, progress: ReembedProgress | None) -> None:
        self.inner, self.total, self.progress = inner, total, progress
        self.name, self.dimension = inner.name, inner.dimension
        self.done = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self.inner.embed(texts)
        self.done += len(texts)
        if self.progress is not None:
            self.progress(self.done, self.total)
        return vectors
