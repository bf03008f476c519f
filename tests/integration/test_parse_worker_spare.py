"""The spare parse worker (rag.worker_pool) with real worker processes and real files.

One process still reads one file; the next one is started ahead and waits on its stdin. These
tests check that the spare is the one that reads the next file, that a dead spare is replaced,
that hostile files keep their one-sentence reasons, and that no worker outlives its parent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import rag.extract
from rag.extract import close_workers, extract, spare_worker, worker_command
from rag.limits import ParseLimits
from rag.worker_pool import SpareWorker

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO.parent / "shared" / "eval" / "docs"
TEXT_PDF = DOCS / "pdf/text/pdflatex-4-pages.pdf"
WORD = DOCS / "docx/test.docx"
GONE_WITHIN_S = 120  # a bound for a loaded machine, not a measurement


def _workers_of(pid: int) -> list[psutil.Process]:
    """The live parse workers among the children of process `pid`."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "rag.parse_worker" in child.cmdline():
                found.append(child)
        except psutil.Error:
            continue
    return found


def _wait_gone(pid: int) -> bool:
    """True once process `pid` has ended (a zombie counts: it runs nothing)."""
    deadline = time.monotonic() + GONE_WITHIN_S
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(autouse=True)
def _no_spare_before_or_after() -> object:
    close_workers()
    yield
    close_workers()
    assert _workers_of(os.getpid()) == []


def _request(path: Path) -> bytes:
    kind = "pdf" if path.suffix == ".pdf" else "docx"
    limits = ParseLimits().to_dict()
    return json.dumps(
        {"kind": kind, "path": str(path), "password": None, "limits": limits}
    ).encode()


def test_take_hands_over_the_spare_and_starts_the_next() -> None:
    pool = SpareWorker(worker_command, REPO)
    first = pool.take()
    spare = pool.spare
    assert spare is not None and spare.pid != first.pid
    second = pool.take()
    assert second is spare  # the next file goes to the worker that was started ahead
    assert pool.spare is not None and pool.spare.pid not in (first.pid, second.pid)
    for worker, path in ((first, TEXT_PDF), (second, WORD)):
        out, _ = worker.communicate(_request(path), timeout=300)
        assert json.loads(out)["status"] == "ok"
    pool.close()
    assert pool.spare is None and _workers_of(os.getpid()) == []


def test_extract_uses_the_spare_for_the_next_file() -> None:
    assert extract(TEXT_PDF).outcome == "ok"
    spare = spare_worker()
    assert spare is not None and spare.poll() is None
    assert extract(WORD).outcome == "ok"
    assert spare.returncode == 0  # it read the Word file, answered and ended
    following = spare_worker()
    assert following is not None and following.pid != spare.pid
    assert [p.pid for p in _workers_of(os.getpid())] == [following.pid]  # only the new spare


def test_a_crashed_spare_is_replaced() -> None:
    assert extract(TEXT_PDF).outcome == "ok"
    spare = spare_worker()
    assert spare is not None
    spare.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
    spare.wait()
    result = extract(WORD)
    assert result.outcome == "ok", result.reason  # not "the file made the reader stop"
    following = spare_worker()
    assert following is not None and following.pid != spare.pid and following.poll() is None


def test_a_spare_started_with_another_command_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    assert extract(TEXT_PDF).outcome == "ok"
    old = spare_worker()
    assert old is not None
    monkeypatch.setattr(
        rag.extract, "worker_command", lambda: [sys.executable, "-c", "import os; os.abort()"]
    )
    result = extract(TEXT_PDF)
    assert result.outcome == "rejected"
    assert "stop unexpectedly" in result.reason or "stopped with code" in result.reason
    assert old.poll() is not None  # discarded, not handed the file


@pytest.mark.parametrize(
    ("path", "limits", "reason"),
    [
        (
            DOCS / "pdf/stress/many_pages_2000.pdf",
            ParseLimits(timeout_s=0.5),
            "Reading the file took longer than 0.5 s",
        ),
        (TEXT_PDF, ParseLimits(memory_mb=8), "Reading the file needed more than 8 MB of memory"),
        (
            DOCS / "pdf/malformed/truncated_LIMEENERGYCO_60pct.pdf",
            ParseLimits(),
            "The file is damaged or incomplete and cannot be read",
        ),
        (
            DOCS / "docx/truncated_test_docx_50pct.docx",
            ParseLimits(),
            "The file is damaged or incomplete and cannot be read",
        ),
    ],
)
def test_hostile_files_keep_their_reason_and_the_next_file_is_read(
    path: Path, limits: ParseLimits, reason: str
) -> None:
    assert extract(TEXT_PDF).outcome == "ok"  # a warm spare is waiting
    result = extract(path, limits=limits)
    assert (result.outcome, result.parsed) == ("rejected", None)
    assert result.reason.startswith(reason), result.reason
    assert extract(WORD).outcome == "ok"  # the next file gets a fresh, unlimited worker


def test_an_unused_spare_ends_when_its_stdin_closes() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rag.parse_worker"], input=b"", capture_output=True, cwd=REPO,
        timeout=300, check=False,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout) == (0, b"")


CHILD = """
import os, sys, time
from pathlib import Path
from rag.extract import extract, spare_worker
assert extract(Path(sys.argv[1])).outcome == "ok"
print(spare_worker().pid, flush=True)
if sys.argv[2] == "wait":
    time.sleep(600)
"""


@pytest.mark.parametrize("ending", ["exit", "killed"])
def test_no_worker_outlives_its_parent(ending: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(TEXT_PDF), "wait" if ending == "killed" else "exit"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        spare_pid = int(child.stdout.readline())
        assert psutil.pid_exists(spare_pid)
        if ending == "killed":
            child.kill()  # SIGKILL: no atexit; the spare sees its stdin close
        child.wait(timeout=300)
    finally:
        child.kill()
        child.wait()
    assert _wait_gone(spare_pid)
