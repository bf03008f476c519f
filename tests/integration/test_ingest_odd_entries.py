"""One odd entry never stops an ingest, and every entry gets exactly one outcome (issue 12).

Real entries in tmp_path: a file name with bytes that are not UTF-8, files without an
extension, a FIFO, a device (/dev/null), symlink loops, broken links, links out of the folder
and into it, a link to a folder; a real WorkspaceIndex (chromadb and SQLite on disk) with the
hashing embedder.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.library.ingest import (
    LINK_LOOP,
    LINK_OUTSIDE,
    LINK_TO_FOLDER,
    NAME_NOT_UTF8,
    FileOutcome,
    IngestSummary,
    collect_entries,
    ingest_paths,
)
from rag.embedder import HashEmbedder
from rag.index import WorkspaceIndex
from rag.limits import ParseLimits

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and byte file names are POSIX"),
    pytest.mark.timeout(120),  # a FIFO opened for reading would hang here, not fail
]

BAD_NAME = os.fsdecode(b"caf\xe9.txt")  # Latin-1 bytes: not UTF-8
NOTE = "The patient was seen on 3 March and is stable.\n"


@pytest.fixture
def index(tmp_path: Path) -> Iterator[WorkspaceIndex]:
    idx = WorkspaceIndex(tmp_path / "ws", HashEmbedder(384))
    yield idx
    idx.close()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.txt").write_text("A file outside the folder that was added.\n")
    return folder


@pytest.fixture
def odd(tmp_path: Path, outside: Path) -> Path:
    """A folder a person might really have, with every odd kind of entry in it."""
    folder = tmp_path / "matter"
    (folder / "sub").mkdir(parents=True)
    (folder / "a-note.txt").write_text(NOTE)
    (folder / "sub" / "deep.md").write_text("# Plan\n\nReview in two weeks.\n")
    with open(os.fsencode(folder / BAD_NAME), "wb") as fh:  # a name only bytes can spell
        fh.write(NOTE.encode())
    (folder / "README").write_text("A file without an extension.\n")
    (folder / ".hidden.txt").write_text("hidden files are skipped\n")
    os.mkfifo(folder / "pipe.txt")
    os.symlink("loop.txt", folder / "loop.txt")
    os.symlink("ping.txt", folder / "pong.txt")
    os.symlink("pong.txt", folder / "ping.txt")
    os.symlink("missing.txt", folder / "broken.txt")
    os.symlink(outside / "secret.txt", folder / "outside.txt")
    os.symlink("/dev/null", folder / "null.txt")
    os.symlink(outside, folder / "outside-folder")
    os.symlink("sub", folder / "sub-link")
    os.symlink("a-note.txt", folder / "z-link.txt")
    return folder


def run(index: WorkspaceIndex, paths: list[Path]) -> tuple[list[FileOutcome], IngestSummary]:
    events = list(ingest_paths(index, paths, limits=ParseLimits()))
    summary = events[-1]
    assert isinstance(summary, IngestSummary)
    return [e for e in events if isinstance(e, FileOutcome)], summary


def by_name(outcomes: list[FileOutcome]) -> dict[str, FileOutcome]:
    names = Counter(o.path.name for o in outcomes)
    assert all(n == 1 for n in names.values()), f"an entry got more than one outcome: {names}"
    return {o.path.name: o for o in outcomes}


def test_every_entry_of_a_folder_gets_exactly_one_outcome(index: WorkspaceIndex, odd: Path) -> None:
    outcomes, summary = run(index, [odd])
    got = by_name(outcomes)
    listed = {name for name in os.listdir(odd) if not name.startswith(".")} - {"sub"}
    assert set(got) == listed | {"deep.md"}
    assert summary.total == len(outcomes) and not summary.cancelled

    def reason(name: str) -> str:
        assert got[name].report.outcome == "rejected", got[name].report
        return got[name].report.reason

    assert got["a-note.txt"].report.outcome == "indexed"
    assert got["deep.md"].report.outcome == "indexed"
    assert reason(BAD_NAME) == NAME_NOT_UTF8
    assert "no extension" in reason("README")
    assert "named pipe" in reason("pipe.txt")
    assert reason("loop.txt") == reason("ping.txt") == reason("pong.txt") == LINK_LOOP
    assert "broken link" in reason("broken.txt")
    assert reason("outside.txt") == reason("null.txt") == LINK_OUTSIDE
    assert reason("outside-folder") == LINK_OUTSIDE
    assert reason("sub-link") == LINK_TO_FOLDER
    # A link to a file of the folder comes last and finds it indexed: not a second document.
    assert outcomes[-1].path.name == "z-link.txt"
    link = got["z-link.txt"].report
    assert (link.outcome, link.name) == ("unchanged", "a-note.txt")
    # The index records the files it was given (README among them, as rejected); the entries
    # refused before indexing (pipes, links, bad names) are not written to it.
    recorded = {d.name: d.status for d in index.documents()}
    assert recorded == {"a-note.txt": "indexed", "deep.md": "indexed", "README": "rejected"}


def test_a_link_out_of_the_folder_is_not_indexed_under_the_target_name(
    index: WorkspaceIndex, odd: Path, outside: Path
) -> None:
    run(index, [odd])
    assert all("elsewhere" not in d.path for d in index.documents())
    assert all(not d.name.startswith("secret") for d in index.documents())


def test_entries_given_one_by_one_each_get_their_outcome(
    index: WorkspaceIndex, odd: Path, outside: Path
) -> None:
    given = [
        odd / BAD_NAME,
        odd / "pipe.txt",
        odd / "loop.txt",
        odd / "broken.txt",
        Path("/dev/null"),
        odd / "gone.txt",
        odd / "README",
        odd / "outside.txt",  # given by the person: followed, and shown as the link
        odd / "a-note.txt",
        odd / "a-note.txt",  # twice: one entry
    ]
    outcomes, _ = run(index, given)
    assert [o.path.name for o in outcomes] == [
        BAD_NAME,
        "pipe.txt",
        "loop.txt",
        "broken.txt",
        "null",
        "gone.txt",
        "README",
        "a-note.txt",
        "outside.txt",  # links after files
    ]
    reasons = {o.path.name: o.report.reason for o in outcomes}
    assert "a device" in reasons["null"]
    assert "does not exist" in reasons["gone.txt"]
    followed = outcomes[-1].report
    assert (followed.outcome, followed.name) == ("indexed", "secret.txt")


def test_nothing_odd_is_opened_while_collecting(odd: Path) -> None:
    entries = collect_entries([odd])
    refused = {e.path.name for e in entries if e.target is None}
    assert {"pipe.txt", "loop.txt", BAD_NAME, "outside.txt"} <= refused
    assert all(e.refusal for e in entries if e.target is None)
    kept = {e.path.name for e in entries if e.target is not None}
    assert kept == {"a-note.txt", "deep.md", "README", "z-link.txt"}
