"""`enclave ingest` on a folder of odd entries, end to end (issue 12): the real entry point in
a child process, the real embedder, chromadb on disk. The run finishes, every entry has its one
line, and no file name reaches the terminal raw (bidi overrides and controls are escaped)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.integration.cli_helpers import enclave, json_lines

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and byte file names are POSIX"),
]

NOTE = "Discharge summary. The patient is stable and goes home with aspirin 100 mg daily.\n"
SPOOF = "scan\u202egpj.txt"  # shows as "scantxt.jpg" where bidi is honoured
ESCAPE = "clear\x1b[2J.txt"  # a terminal escape sequence in a name


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "matter"
    folder.mkdir()
    (folder / "note.txt").write_text(NOTE)
    (folder / SPOOF).write_text(NOTE.replace("aspirin", "ibuprofen"))
    (folder / ESCAPE).write_text(NOTE.replace("stable", "improving"))
    with open(os.fsencode(folder) + b"/caf\xe9.txt", "wb") as fh:
        fh.write(NOTE.encode())
    os.mkfifo(folder / "pipe.txt")
    os.symlink("loop.txt", folder / "loop.txt")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("Outside the folder.\n")
    os.symlink(outside, folder / "outside.txt")
    (folder / "README").write_text("no extension\n")
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    enclave(home, "workspaces", "create", "odd")
    return home


def test_ingest_of_odd_entries_finishes_with_one_safe_line_each(home: Path, folder: Path) -> None:
    proc = enclave(home, "ingest", str(folder), "--workspace", "odd", check=False, timeout=240)
    assert proc.returncode == 1, proc.stderr  # some entries were rejected; none stopped the run
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    out = proc.stdout
    assert "\u202e" not in out and "\x1b" not in out
    lines = [line.strip() for line in out.splitlines()]
    for name in (
        "note.txt",
        "scan\\u202egpj.txt",
        "clear\\x1b[2J.txt",
        "caf\\xe9.txt",
        "pipe.txt",
        "loop.txt",
        "outside.txt",
        "README",
    ):
        assert sum(line.endswith(f"  {name}") or f"  {name}  (" in line for line in lines) == 1, (
            name,
            out,
        )
    assert "links out of a folder are not followed" in out
    assert "symlink loop" in out and "named pipe" in out and "not valid UTF-8" in out
    assert "8 files in workspace 'odd'" in out and "3 indexed" in out


def test_ingest_json_gives_one_line_per_entry(home: Path, folder: Path) -> None:
    proc = enclave(home, "ingest", str(folder), "-w", "odd", "--json", check=False, timeout=240)
    rows = json_lines(proc.stdout)
    assert len(rows) == 8, proc.stdout
    outcomes = {Path(r["path"]).name: r["outcome"] for r in rows}
    assert outcomes[SPOOF] == outcomes[ESCAPE] == outcomes["note.txt"] == "indexed"
    assert outcomes[os.fsdecode(b"caf\xe9.txt")] == "rejected"
