"""A big ingest is a resumable queue: `enclave ingest DIR` killed with SIGKILL mid-way and started
again goes on where it stopped. Committed files are not embedded again (their versions and chunk
ids stay; the manifest's version counter moves only for the files not yet committed), nothing
committed is lost, and nothing half-written is visible (documents list, search, chroma).

Real components: the `enclave` CLI in a child process (real embedder, chromadb on disk, SQLite
manifest), a generated folder of TXT files.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_helpers import REPO, enclave, json_lines
from tests.integration.folder_maker import make_text_folder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]

FILES = 30
KILL_AFTER = 8


def manifest_path(home: Path) -> Path:
    return next(home.rglob("manifest.sqlite3"))


def manifest_state(home: Path) -> dict[str, Any]:
    """What the manifest holds: live documents with their version and chunk ids, the version
    counter, and the versions still pending (vectors written, never made live)."""
    with sqlite3.connect(f"file:{manifest_path(home)}?mode=ro", uri=True) as db:
        docs = {
            row[0]: (row[1], row[2], row[3])
            for row in db.execute("SELECT id, path, status, chunk_count FROM documents")
        }
        chunks: dict[str, list[tuple[int, str]]] = {}
        for doc, version, cid in db.execute(
            "SELECT document_id, version, id FROM chunks ORDER BY document_id, seq"
        ):
            chunks.setdefault(doc, []).append((version, cid))
        seq = db.execute("SELECT value FROM meta WHERE key='version_seq'").fetchone()
        pending = db.execute("SELECT COUNT(*) FROM pending_vectors").fetchone()[0]
    return {"docs": docs, "chunks": chunks, "version_seq": int(seq[0]), "pending": pending}


def chroma_ids(home: Path) -> set[str]:
    from rag.store import VectorStore

    store = VectorStore(manifest_path(home).parent / "chroma")
    try:
        return set(store.all_ids())
    finally:
        store.close()


def test_killed_ingest_resumes_without_embedding_committed_files_again(tmp_path: Path) -> None:
    home, folder = tmp_path / "home", tmp_path / "matter"
    make_text_folder(folder, FILES)
    env = dict(os.environ, ENCLAVE_HOME=str(home), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "app", "ingest", str(folder), "-w", "big", "--create", "--json"]
    child = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    seen: list[dict[str, Any]] = []
    try:
        for line in child.stdout:
            seen.append(json.loads(line))
            if len(seen) >= KILL_AFTER:
                os.kill(child.pid, signal.SIGKILL)  # between two files or inside the next one
                break
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert [s["outcome"] for s in seen] == ["indexed"] * KILL_AFTER

    # After the kill: every committed document is whole, and only those are listed.
    killed = manifest_state(home)
    committed = {doc for doc, (_, status, _) in killed["docs"].items() if status == "indexed"}
    assert KILL_AFTER <= len(committed) < FILES
    for doc in committed:
        assert len(killed["chunks"][doc]) == killed["docs"][doc][2]  # no half document
    listed = json_lines(enclave(home, "documents", "list", "-w", "big", "--json").stdout)
    assert {d["id"] for d in listed} == set(killed["docs"]) and all(
        d["status"] == "indexed" for d in listed
    )

    # The same command again: it goes on where it stopped.
    again = json_lines(enclave(home, *cmd[3:], timeout=600).stdout)
    assert len(again) == FILES
    by_path = {Path(r["path"]).name: r["outcome"] for r in again}
    committed_names = {Path(killed["docs"][d][0]).name for d in committed}
    assert {n for n, o in by_path.items() if o == "unchanged"} == committed_names
    assert {n for n, o in by_path.items() if o == "indexed"} == set(by_path) - committed_names

    done = manifest_state(home)
    for doc in committed:  # not embedded again: the same version, the same chunk ids
        assert done["chunks"][doc] == killed["chunks"][doc]
    # One version reserved per file embedded, and only for the files not committed before.
    assert done["version_seq"] - killed["version_seq"] == FILES - len(committed)
    assert len(done["docs"]) == FILES
    assert all(status == "indexed" for _, status, _ in done["docs"].values())
    assert done["pending"] == 0
    live = {cid for rows in done["chunks"].values() for _, cid in rows}
    assert chroma_ids(home) == live  # the killed file's stray vectors are gone

    # A file that was not committed at the kill is searchable now, by its own words.
    late = next(p for p in sorted(folder.iterdir()) if p.name not in committed_names)
    number = late.read_text(encoding="utf-8").split(":")[0].split()[1]  # "Item N: ..."
    hits = json_lines(
        enclave(home, "search", number, "-w", "big", "--mode", "lexical", "--json").stdout
    )
    assert late.name in {h["document"] for h in hits}
