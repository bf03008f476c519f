"""Adding files and folders to a workspace, one file at a time, with progress and cancel.

Runs on the caller's thread (the CLI's main thread or the UI's ingestion worker). Each file's
parse happens in a separate, limited worker process (rag.extract), so a hostile file cannot
crash or hang the app.

Every entry gets exactly one FileOutcome, whether it was given or found in a folder: a file
the index takes gets the index's report; an entry refused before indexing (a pipe, a device,
a link loop, a link out of the folder, a name that is not UTF-8) gets a "rejected" report with
the reason, and is not written to the index. One odd entry never stops the run.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from models.types import CancelToken

if TYPE_CHECKING:
    from rag.index import DocumentIndex, IngestReport
    from rag.limits import ParseLimits

NAME_NOT_UTF8 = (
    "The name is not valid UTF-8 text (it holds bytes from another encoding, shown as \\xNN), "
    "so Enclave cannot keep track of it. Rename it and add it again."
)
LINK_LOOP = "This is a link that leads back to itself (a symlink loop); it was not followed."
LINK_OUTSIDE = (
    "This is a link to something outside the folder; links out of a folder are not followed. "
    "Add what it points to itself if you want it."
)
LINK_TO_FOLDER = (
    "This is a link to a folder; links to folders are not followed inside a folder. "
    "Add that folder itself if you want it."
)


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


@dataclass(frozen=True)
class Entry:
    """One thing that gets one outcome: `path` as the person sees it; `target` the file to
    index (its real path), or None when it is refused before indexing, `refusal` saying why."""

    path: Path
    target: Path | None
    refusal: str = ""
    via_link: bool = False


def collect_entries(paths: Iterable[Path]) -> list[Entry]:
    """Every entry under `paths`, each once: files given, and what folders hold (walked
    recursively, sorted; names starting with "." are skipped). Links found in a folder are
    followed only to files inside that folder, and after the other files (a link to a file that
    is also there is then "unchanged"). Pipes, devices, sockets, link loops, broken links, links
    out of the folder and names that are not UTF-8 become refused entries; nothing is opened."""
    seen: dict[Path, Entry] = {}
    for given in paths:
        for entry in _entries_for(Path(given).expanduser()):
            key = entry.target if entry.target is not None and not entry.via_link else entry.path
            seen.setdefault(key, entry)
    entries = list(seen.values())
    return [e for e in entries if not e.via_link] + [e for e in entries if e.via_link]


def _entries_for(path: Path) -> Iterator[Entry]:
    """The entries of one path the person gave: a file, a folder, or a link to either."""
    problem = _name_problem(path)
    if problem:
        yield _refused(path, problem)
        return
    try:
        info = path.stat()
    except OSError as exc:
        yield _refused(path, _cannot_stat(path, exc))
        return
    if stat.S_ISDIR(info.st_mode):
        root = path.resolve()
        yield from _walk(path.absolute(), root, {(info.st_dev, info.st_ino)})
    else:
        yield _file_entry(path, info, via_link=path.is_symlink())


def _walk(folder: Path, root: Path, seen: set[tuple[int, int]]) -> Iterator[Entry]:
    """Entries of `folder` and its subfolders (not through links), in name order."""
    try:
        with os.scandir(folder) as listing:
            children = sorted(listing, key=lambda child: child.name)
    except OSError as exc:
        yield _refused(folder, f"Enclave cannot open this folder ({exc.strerror or exc}).")
        return
    for child in children:
        if child.name.startswith("."):
            continue
        path = folder / child.name
        problem = _name_problem(path)
        if problem:
            yield _refused(path, problem)
        elif child.is_symlink():
            yield _link_in_folder(path, root)
        else:
            yield from _child_entries(child, path, root, seen)


def _child_entries(
    child: os.DirEntry[str], path: Path, root: Path, seen: set[tuple[int, int]]
) -> Iterator[Entry]:
    try:
        info = child.stat(follow_symlinks=False)
    except OSError as exc:
        yield _refused(path, _cannot_stat(path, exc))
        return
    if not stat.S_ISDIR(info.st_mode):
        yield _file_entry(path, info)
    elif (info.st_dev, info.st_ino) not in seen:  # a folder mounted inside itself: once
        seen.add((info.st_dev, info.st_ino))
        yield from _walk(path, root, seen)


def _link_in_folder(path: Path, root: Path) -> Entry:
    """A link found inside a folder: followed only to a file inside the same folder."""
    try:
        info = path.stat()
    except OSError as exc:
        return _refused(path, _cannot_stat(path, exc))
    target = Path(os.path.realpath(path))
    if not target.is_relative_to(root):
        return _refused(path, LINK_OUTSIDE)
    if stat.S_ISDIR(info.st_mode):
        return _refused(path, LINK_TO_FOLDER)
    return _file_entry(path, info, via_link=True)


def _file_entry(path: Path, info: os.stat_result, *, via_link: bool = False) -> Entry:
    """A regular file is indexed (by its real path); anything else is refused by its kind."""
    mode = info.st_mode
    if stat.S_ISREG(mode):
        target = Path(os.path.realpath(path))
        return Entry(path.absolute() if via_link else target, target, via_link=via_link)
    if stat.S_ISFIFO(mode):
        what = "a named pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    else:
        what = "not a regular file"
    return _refused(path, f"This is {what}, not a document; Enclave reads only regular files.")


def _name_problem(path: Path) -> str:
    """Why Enclave cannot keep track of a file by this name ("" when it can)."""
    try:
        str(path.absolute()).encode("utf-8")
    except UnicodeEncodeError:
        return NAME_NOT_UTF8
    return ""


def _cannot_stat(path: Path, exc: OSError) -> str:
    link = path.is_symlink()
    if exc.errno == errno.ELOOP:
        return LINK_LOOP
    if isinstance(exc, FileNotFoundError):
        if link:
            return "This is a link to something that does not exist (a broken link)."
        return "The file does not exist (it may have been moved or deleted)."
    if isinstance(exc, PermissionError):
        return "Enclave is not allowed to read this (permission denied)."
    return f"This cannot be read ({exc.strerror or exc})."


def _refused(path: Path, reason: str) -> Entry:
    return Entry(path.absolute(), None, reason)


def refused_report(entry: Entry) -> IngestReport:
    """The outcome of an entry refused before indexing (nothing is written to the index)."""
    from rag.index_types import IngestReport

    path = entry.path
    digest = hashlib.sha1(os.fsencode(str(path)), usedforsecurity=False).hexdigest()[:16]
    return IngestReport(
        document_id=digest,
        name=path.name,
        path=str(path),
        outcome="rejected",
        chunk_count=0,
        pages=0,
        reason=entry.refusal,
    )


def ingest_paths(
    index: DocumentIndex,
    paths: Iterable[Path],
    *,
    limits: ParseLimits,
    password: str | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[IngestEvent]:
    yield from ingest_entries(
        index, collect_entries(paths), limits=limits, password=password, cancel=cancel
    )


def ingest_entries(
    index: DocumentIndex,
    entries: Sequence[Entry],
    *,
    limits: ParseLimits,
    password: str | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[IngestEvent]:
    """As ingest_paths, for entries already collected (a folder sync's changed files)."""
    from rag.index import IngestCancelled

    started = time.perf_counter()
    counts: dict[str, int] = {}
    pages = chunks = 0
    cancelled = False
    for done, entry in enumerate(entries):
        if cancel is not None and cancel.cancelled:
            cancelled = True
            break
        yield IngestProgress(done, len(entries), entry.path, pages, time.perf_counter() - started)
        try:
            report = _ingest_entry(index, entry, limits=limits, password=password, cancel=cancel)
        except IngestCancelled:  # the file's previous version, if any, is still live
            cancelled = True
            break
        counts[report.outcome] = counts.get(report.outcome, 0) + 1
        if report.outcome in ("indexed", "indexed_with_warnings"):
            pages += report.pages
            chunks += report.chunk_count
        yield FileOutcome(entry.path, report)
    total = len(entries)
    yield IngestSummary(total, counts, pages, chunks, time.perf_counter() - started, cancelled)


def _ingest_entry(
    index: DocumentIndex,
    entry: Entry,
    *,
    limits: ParseLimits,
    password: str | None,
    cancel: CancelToken | None,
) -> IngestReport:
    """The entry's one report. A file that changed into something odd between collecting and
    indexing (a pipe, a loop) is a logged rejection, never the end of the run."""
    if entry.target is None:
        return refused_report(entry)
    try:
        return index.ingest_file(
            entry.target,
            password=password,
            limits=limits,
            cancel=(lambda: cancel.cancelled) if cancel is not None else None,
        )
    except (OSError, RuntimeError, UnicodeError) as exc:
        from app.errors import internal_error

        return refused_report(Entry(entry.path, None, internal_error(exc)))
