"""Kill the ingesting process (SIGKILL) and reopen: no committed document is lost, no half
document is visible, and chroma ends up holding exactly the manifest's live chunks.

The child is a real Python process with the real embedder, real rag.extract/rag.chunking and
chromadb on disk; the parent reopens the same folder afterwards, as the app would on restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.index import WorkspaceIndex, document_id_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = [
    "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.txt",
    "ACCELERATEDTECHNOLOGIESHOLDINGCORP_04_24_2003-EX-10.13-JOINT VENTURE AGREEMENT.txt",
    "ADMA BioManufacturing, LLC -  Amendment #3 to Manufacturing Agreement .txt",
    "ABILITYINC_06_15_2020-EX-4.25-SERVICES AGREEMENT.txt",
]
NEW_TEXT = "REPLACEMENT TERMS. The licensee shall deliver zanzibarite ore to Reykjavik monthly.\n"

CHILD = r"""
import sys, time
from pathlib import Path
from app.bootstrap import secure_process
secure_process()
from rag.embedder import SentenceTransformerEmbedder, default_embedder_path
from rag.index import WorkspaceIndex

root, marker, scenario, *files = sys.argv[1:]
index = WorkspaceIndex(Path(root), SentenceTransformerEmbedder(default_embedder_path()))
if scenario == "sequential":
    for name in files:
        index.ingest_file(Path(name))
    Path(marker).write_text("finished")
elif scenario == "replace":
    for name in files:
        index.ingest_file(Path(name))
    def hang(doc, version):
        Path(marker).write_text(doc)  # new vectors are in chroma; the manifest is not switched
        time.sleep(600)
    index.before_commit = hang
    Path(files[0]).write_text(sys.stdin.read(), encoding="utf-8")
    index.ingest_file(Path(files[0]))
"""


def _start(root: Path, marker: Path, scenario: str, files: list[Path]) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(marker), scenario, *map(str, files)],
        cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _wait_for(condition: Any, proc: subprocess.Popen[str], what: str, limit: float = 300) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the child exited before {what}: {proc.stderr.read()[-3000:]}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _read(root: Path, sql: str) -> set[str]:
    """Read the manifest as another process would (an empty set before it exists)."""
    db = root / "manifest.sqlite3"
    if not db.exists():
        return set()
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return {r[0] for r in conn.execute(sql).fetchall()}
        finally:
            conn.close()
    except sqlite3.OperationalError:  # schema not created yet
        return set()


def _committed(root: Path) -> set[str]:
    return _read(root, "SELECT id FROM documents WHERE chunk_count > 0")


def _in_flight(root: Path) -> set[str]:
    """Documents with a version whose vectors are being written (not yet committed)."""
    return _read(root, "SELECT document_id FROM pending_vectors") - _committed(root)


@pytest.fixture
def files(tmp_path: Path, eval_dir: Path) -> list[Path]:
    folder = tmp_path / "matter"
    folder.mkdir()
    for name in CONTRACTS:
        shutil.copy(eval_dir / "cuad" / "contracts" / name, folder / name)
    return [folder / name for name in CONTRACTS]


@pytest.fixture
def reopen(real_embedder: Any) -> Iterator[Any]:
    opened: list[WorkspaceIndex] = []

    def _open(root: Path) -> WorkspaceIndex:
        opened.append(WorkspaceIndex(root, real_embedder))
        return opened[-1]

    yield _open
    for idx in opened:
        idx.close()


def _assert_consistent(index: WorkspaceIndex) -> None:
    """Every live document is whole: its chunks tile its text, and each has its vector."""
    assert index.manifest.pending() == []
    assert index.store.all_ids() == index.manifest.live_chunk_ids()
    for record in index.documents():
        chunks = index.manifest.document_chunks(record.id)
        assert len(chunks) == record.chunk_count > 0
        for chunk in chunks:
            assert index.document_text_span(record.id, chunk.start, chunk.end) == chunk.text


def _own_hits(index: WorkspaceIndex, doc_id: str, query: str) -> list[str]:
    hits = [h for mode in ("hybrid", "dense", "lexical") for h in index.search(query, 10, mode)]
    return [h.chunk.id for h in hits if h.chunk.document_id == doc_id]


def test_kill_mid_ingest_loses_nothing_committed_and_shows_no_half_document(
    tmp_path: Path, files: list[Path], reopen: Any
) -> None:
    root = tmp_path / "ws"
    proc = _start(root, tmp_path / "marker", "sequential", files)
    _wait_for(
        lambda: len(_committed(root)) >= 1 and _in_flight(root),
        proc,
        "a document commits and the next one is being embedded",
    )
    _kill(proc)  # the next document's vectors are being computed and written to chroma
    committed_before, half_done = _committed(root), _in_flight(root)
    assert half_done

    index = reopen(root)
    assert index.last_recovery.pending_versions_cleared >= 1
    assert not half_done & {r.id for r in index.documents()}
    live = {r.id for r in index.documents() if r.chunk_count > 0}
    assert committed_before <= live  # nothing committed was lost
    assert len(live) < len(files), "the kill came too late to test anything"
    _assert_consistent(index)
    for path in files:
        doc_id = document_id_for(path)
        first_line = path.read_text(encoding="utf-8").strip().splitlines()[0]
        own = _own_hits(index, doc_id, first_line + " " + path.stem)
        if doc_id in live:
            assert own, f"committed {path.name} is not searchable"
        else:
            assert own == [], f"a chunk of uncommitted {path.name} is visible"
            assert (
                index.store.collection.get(where={"document_id": doc_id}, include=[])["ids"] == []
            )
    # Restarting the ingestion finishes the job; what was committed is "unchanged".
    outcomes = [index.ingest_file(path).outcome for path in files]
    assert outcomes.count("unchanged") == len(live)
    assert set(outcomes) <= {"unchanged", "indexed", "indexed_with_warnings"}
    _assert_consistent(index)


def test_kill_between_chroma_write_and_commit_keeps_the_old_version(
    tmp_path: Path, files: list[Path], reopen: Any
) -> None:
    root, marker = tmp_path / "ws", tmp_path / "marker"
    some = files[:2]
    old_text = some[0].read_text(encoding="utf-8")
    proc = _start(root, marker, "replace", some)
    assert proc.stdin is not None
    proc.stdin.write(NEW_TEXT)
    proc.stdin.close()
    _wait_for(marker.exists, proc, "the replacement's vectors are written")
    _kill(proc)
    doc_id = document_id_for(some[0])
    assert marker.read_text() == doc_id

    index = reopen(root)
    _assert_consistent(index)  # the orphaned new vectors were removed on open
    assert {r.id for r in index.documents()} == {document_id_for(p) for p in some}
    row = index.manifest.document(doc_id)
    assert row is not None and row.chunk_count > 1
    old_version = f"{doc_id}-v{row.version}-"
    # Search as hard as possible for the new text: only old-version chunks come back.
    seen = _own_hits(index, doc_id, "zanzibarite ore Reykjavik " + NEW_TEXT)
    assert seen and all(cid.startswith(old_version) for cid in seen)
    assert all("zanzibarite" not in index.chunk(cid).text for cid in seen)
    assert index.search("zanzibarite", 5, "lexical") == []
    first_clause = old_text.strip().splitlines()[0]
    assert _own_hits(index, doc_id, first_clause), "the committed old version was lost"
    assert index.manifest.document_text(doc_id) == old_text
