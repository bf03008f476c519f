"""Keeping a workspace in sync with folders: files added, changed, deleted or renamed there are
added, re-indexed or removed here. Polling (a stat of every entry per round), no file-system
notification library: it works the same on every platform and on network shares.

A round compares each entry's signature (real path, size, mtime in ns, inode) with the last
round's. Changed or new entries are ingested (the index itself says "unchanged" when only the
time moved); entries that are gone have their documents removed. A rename is both: the new name
is indexed first, then the old one removed, so the text is never missing from search. Documents
under a synced folder whose file no longer exists (deleted while nothing watched) are removed by
the first round.

Runs on the caller's thread (the CLI's main thread, or the window's ingestion worker); stops
between files when `cancel` is set. Memory: one small tuple per entry, never file contents.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.library.ingest import (
    Entry,
    FileOutcome,
    IngestEvent,
    IngestSummary,
    collect_entries,
    ingest_entries,
)
from models.types import CancelToken

if TYPE_CHECKING:
    from rag.index_types import DocumentIndex
    from rag.limits import ParseLimits

Signature = tuple[str, int, int, int]  # real path ("" when refused), size, mtime_ns, inode


@dataclass(frozen=True)
class FileRemoved:
    """A document removed because its file is gone from a synced folder (deleted or renamed)."""

    path: Path
    document_id: str
    name: str


SyncEvent = IngestEvent | FileRemoved


def signature(entry: Entry) -> Signature:
    if entry.target is None:
        return ("", 0, 0, 0)
    try:
        info = os.stat(entry.target)
    except OSError:
        return ("", -1, 0, 0)
    return (str(entry.target), info.st_size, info.st_mtime_ns, info.st_ino)


class FolderSync:
    """Brings `index` in line with `roots` (folders or files), one round at a time."""

    def __init__(
        self,
        index: DocumentIndex,
        roots: Iterable[Path],
        *,
        limits: ParseLimits,
        password: str | None = None,
    ) -> None:
        self.index = index
        self.roots = [Path(r).expanduser().absolute() for r in roots]
        self.limits = limits
        self.password = password
        self.seen: dict[Path, Signature] = {}
        self.rounds = 0

    def round(self, cancel: CancelToken | None = None) -> Iterator[SyncEvent]:
        """One pass: ingest what is new or changed (with progress and a summary, as
        ingest_paths), then remove the documents whose files are gone. The first round
        ingests everything (committed, unchanged files are skipped by their hash)."""
        entries = collect_entries(self.roots)
        now = {e.path: signature(e) for e in entries}
        todo = [e for e in entries if self.seen.get(e.path) != now[e.path]]
        first = self.rounds == 0
        self.rounds += 1
        finished = True
        reached: set[Path] = set()
        if todo or first:
            for event in ingest_entries(
                self.index, todo, limits=self.limits, password=self.password, cancel=cancel
            ):
                if isinstance(event, FileOutcome):
                    reached.add(event.path)
                elif isinstance(event, IngestSummary) and event.cancelled:
                    finished = False
                yield event
        if not finished:  # what was not reached is tried again next round
            for entry in todo:
                if entry.path not in reached:
                    now.pop(entry.path)
        self.seen = now
        if finished:
            yield from self._remove_missing({s[0] for s in now.values() if s[0]})

    def _remove_missing(self, present: set[str]) -> Iterator[FileRemoved]:
        """Remove documents under the roots whose real path is no longer there."""
        homes = [str(r.resolve()) for r in self.roots]
        for doc in self.index.documents():
            if doc.path in present or not any(_under(doc.path, home) for home in homes):
                continue
            if self.index.remove(doc.id):
                yield FileRemoved(Path(doc.path), doc.id, doc.name)


def _under(path: str, home: str) -> bool:
    return path == home or path.startswith(home.rstrip(os.sep) + os.sep)


def watch(
    sync: FolderSync,
    *,
    interval_s: float,
    cancel: CancelToken,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[SyncEvent]:
    """Rounds of `sync` every `interval_s` seconds until `cancel` is set (checked at least every
    0.2 s while waiting)."""
    while not cancel.cancelled:
        yield from sync.round(cancel)
        waited = 0.0
        while waited < interval_s and not cancel.cancelled:
            step = min(0.2, interval_s - waited)
            sleep(step)
            waited += step
