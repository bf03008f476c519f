"""Adding files and folders to a workspace, one file at a time, with progress and cancel.

Runs on the caller's thread (the CLI's main thread or the UI's ingestion worker). Each file's
parse happens in a separate, limited worker process (rag.extract), so a hostile file cannot
crash or hang the app.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.types import CancelToken

if TYPE_CHECKING:
    from rag.index import DocumentIndex, IngestReport
    from rag.limits import ParseLimits


@dataclass(frozen=True)
class IngestProgress:
    """Sent before each file: `done` files of `total` finished so far."""

    done: int
    total: int
    current: Path
    pages_done: int
    seconds: float

    @property
    def pages_per_second(self) -> float:
        return self.pages_done / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    report: IngestReport


@dataclass(frozen=True)
class IngestSummary:
    total: int
    counts: dict[str, int]
    pages: int
    chunks: int
    seconds: float
    cancelled: bool


IngestEvent = IngestProgress | FileOutcome | IngestSummary


def collect_files(paths: Iterable[Path], suffixes: Iterable[str]) -> list[Path]:
    """Files under `paths` (folders walked recursively, hidden files skipped), sorted, unique."""
    wanted = {s.lower() for s in suffixes}
    found: dict[Path, None] = {}
    for path in paths:
        path = path.expanduser()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if (
                    child.is_file()
                    and not any(p.startswith(".") for p in rel.parts)
                    and child.suffix.lower() in wanted
                ):
                    found[child.resolve()] = None
        else:
            found[path.resolve() if path.exists() else path] = None  # refused later, by name
    return list(found)


def ingest_paths(
    index: DocumentIndex,
    paths: Iterable[Path],
    *,
    limits: ParseLimits,
    password: str | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[IngestEvent]:
    from rag.extract import SUPPORTED_SUFFIXES
    from rag.index import IngestCancelled

    files = collect_files(paths, SUPPORTED_SUFFIXES)
    started = time.perf_counter()
    counts: dict[str, int] = {}
    pages = chunks = 0
    cancelled = False
    for done, path in enumerate(files):
        if cancel is not None and cancel.cancelled:
            cancelled = True
            break
        yield IngestProgress(done, len(files), path, pages, time.perf_counter() - started)
        try:
            report = index.ingest_file(
                path,
                password=password,
                limits=limits,
                cancel=(lambda: cancel.cancelled) if cancel is not None else None,
            )
        except IngestCancelled:  # the file's previous version, if any, is still live
            cancelled = True
            break
        counts[report.outcome] = counts.get(report.outcome, 0) + 1
        if report.outcome in ("indexed", "indexed_with_warnings"):
            pages += report.pages
            chunks += report.chunk_count
        yield FileOutcome(path, report)
    yield IngestSummary(len(files), counts, pages, chunks, time.perf_counter() - started, cancelled)
