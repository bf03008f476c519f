"""Fast checks of the folder sync rounds and the ingest progress line, with a scripted index
(the real CLI, embedder and chroma are proven in tests/integration/test_ingest_watch.py)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from app.cli.ingest_progress import ProgressLine, progress_text, time_left
from app.library.ingest import FileOutcome, IngestProgress, IngestSummary
from app.library.sync import FileRemoved, FolderSync
from models.types import CancelToken
from rag.index_types import IngestReport, document_id_for
from rag.limits import ParseLimits
from rag.types import DocumentRecord


class ScriptedIndex:
    """Keeps {document id: path}; counts ingest calls per file name."""

    def __init__(self, cancel_on: str = "", token: CancelToken | None = None) -> None:
        self.docs: dict[str, str] = {}
        self.calls: list[str] = []
        self.cancel_on, self.token = cancel_on, token

    def ingest_file(self, path: Path, **kwargs: Any) -> IngestReport:
        self.calls.append(path.name)
        if path.name == self.cancel_on and self.token is not None:
            self.token.cancel()
        doc = document_id_for(path)
        self.docs[doc] = str(path.resolve())
        return IngestReport(doc, path.name, str(path), "indexed", 1, 1, "")

    def documents(self) -> list[DocumentRecord]:
        return [
            DocumentRecord(d, Path(p).name, p, "", "indexed", 1, 1, "", [], "")
            for d, p in self.docs.items()
        ]

    def remove(self, doc_id: str) -> bool:
        return self.docs.pop(doc_id, None) is not None


def names(events: list[Any], kind: type) -> list[str]:
    return sorted(
        e.path.name
        for e in events
        if isinstance(e, (FileOutcome, FileRemoved)) and isinstance(e, kind)
    )


def test_rounds_add_change_remove_and_rename(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    index = ScriptedIndex()
    sync = FolderSync(index, [tmp_path], limits=ParseLimits())  # type: ignore[arg-type]
    first = list(sync.round())
    assert names(first, FileOutcome) == ["a.txt", "b.txt"]
    assert isinstance(first[-1], IngestSummary)
    assert list(sync.round()) == []  # nothing changed: nothing ingested, nothing said
    (tmp_path / "a.txt").write_text("a, longer")
    os.utime(tmp_path / "a.txt", ns=(1, 1))
    (tmp_path / "b.txt").rename(tmp_path / "c.txt")
    third = list(sync.round())
    assert names(third, FileOutcome) == ["a.txt", "c.txt"]
    assert names(third, FileRemoved) == ["b.txt"]
    assert sorted(Path(p).name for p in index.docs.values()) == ["a.txt", "c.txt"]


def test_first_round_removes_documents_whose_files_went_while_nothing_watched(
    tmp_path: Path,
) -> None:
    folder, other = tmp_path / "matter", tmp_path / "elsewhere"
    folder.mkdir()
    other.mkdir()
    (folder / "kept.txt").write_text("k")
    index = ScriptedIndex()
    index.docs["gone"] = str(folder / "gone.txt")
    index.docs["outside"] = str(other / "x.txt")  # added from another folder: not ours
    events = list(FolderSync(index, [folder], limits=ParseLimits()).round())  # type: ignore[arg-type]
    assert names(events, FileRemoved) == ["gone.txt"]
    assert set(index.docs) == {document_id_for(folder / "kept.txt"), "outside"}


def test_a_cancelled_round_leaves_the_rest_for_the_next_and_removes_nothing(
    tmp_path: Path,
) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(name)
    token = CancelToken()
    index = ScriptedIndex(cancel_on="a.txt", token=token)
    index.docs["gone"] = str(tmp_path / "gone.txt")
    sync = FolderSync(index, [tmp_path], limits=ParseLimits())  # type: ignore[arg-type]
    events = list(sync.round(token))
    assert index.calls == ["a.txt"] and not names(events, FileRemoved)
    index.token = None
    list(sync.round(CancelToken()))
    assert index.calls == ["a.txt", "b.txt", "c.txt"]
    assert "gone" not in index.docs


def test_progress_text_and_time_left() -> None:
    event = IngestProgress(done=100, total=400, current=Path("x.pdf"), pages_done=50, seconds=25)
    assert progress_text(event) == "100/400 files, 2.0 pages/s, about 1 min left"
    assert time_left(0, 10, 5.0) == ""
    assert time_left(10, 10, 5.0) == ""
    assert time_left(1, 3, 10.0) == "about 20 s left"
    assert time_left(1, 1000, 10.0) == "about 2 h 46 min left"


def test_progress_off_a_terminal_is_a_line_every_few_seconds() -> None:
    now = [0.0]
    out = io.StringIO()
    line = ProgressLine(out, every_s=10, clock=lambda: now[0])
    for step in range(30):
        now[0] = float(step)
        line.update(IngestProgress(step, 30, Path("f.txt"), step, float(step)))
    shown = out.getvalue().splitlines()
    assert shown == [
        "ingest: 0/30 files, 0.0 pages/s",
        "ingest: 10/30 files, 1.0 pages/s, about 20 s left",
        "ingest: 20/30 files, 1.0 pages/s, about 10 s left",
    ]
