"""`enclave ingest DIR --watch` keeps a workspace in sync with a folder until Ctrl-C.

A real `enclave` child process (real embedder, chromadb, SQLite manifest) watches a folder while
the test adds, changes, deletes and renames files in it; `enclave documents list` and
`enclave search` (run beside it, as a person would) follow. SIGINT ends it: exit 130.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_helpers import REPO, enclave, json_lines

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX"),
]


class Watcher:
    """The watching child, its JSON lines read on a thread into a queue."""

    def __init__(self, home: Path, folder: Path) -> None:
        env = dict(os.environ, ENCLAVE_HOME=str(home), PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "app", "ingest", str(folder), "-w", "sync", "--create"]
        self.proc = subprocess.Popen(
            [*cmd, "--watch", "--interval", "0.5", "--json"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def expect(self, wanted: set[tuple[str, str]], timeout: float = 240) -> None:
        """Wait until every (file name, outcome) in `wanted` has been reported."""
        deadline = time.monotonic() + timeout
        missing = set(wanted)
        while missing:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"never reported: {sorted(missing)}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            missing.discard((Path(line["path"]).name, line["outcome"]))

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=120)
        return self.proc.returncode, err


def listed(home: Path) -> dict[str, str]:
    out = enclave(home, "documents", "list", "-w", "sync", "--json").stdout
    return {d["name"]: d["sha256"] for d in json_lines(out)}


def found(home: Path, word: str) -> set[str]:
    out = enclave(home, "search", word, "-w", "sync", "--mode", "lexical", "--json").stdout
    return {h["document"] for h in json_lines(out)}


def test_watch_follows_added_changed_deleted_and_renamed_files(tmp_path: Path) -> None:
    home, folder = tmp_path / "home", tmp_path / "matter"
    (folder / "letters").mkdir(parents=True)
    (folder / "intake.txt").write_text("Intake note: the patient reports quokkarash.\n")
    (folder / "letters" / "referral.txt").write_text("Referral for wombatitis, urgent.\n")
    (folder / "old-name.txt").write_text("Lease clause on the numbatorium roof.\n")
    watcher = Watcher(home, folder)
    try:
        watcher.expect(
            {("intake.txt", "indexed"), ("referral.txt", "indexed"), ("old-name.txt", "indexed")}
        )
        assert set(listed(home)) == {"intake.txt", "referral.txt", "old-name.txt"}

        (folder / "letters" / "added.txt").write_text("New exhibit about the bilbyfen estate.\n")
        (folder / "intake.txt").write_text("Intake note, corrected: the patient has dingoflu.\n")
        (folder / "letters" / "referral.txt").unlink()
        (folder / "old-name.txt").rename(folder / "letters" / "new-name.txt")
        watcher.expect(
            {
                ("added.txt", "indexed"),
                ("intake.txt", "indexed"),
                ("referral.txt", "removed"),
                ("new-name.txt", "indexed"),
                ("old-name.txt", "removed"),
            }
        )
        assert set(listed(home)) == {"intake.txt", "added.txt", "new-name.txt"}
        assert found(home, "bilbyfen") == {"added.txt"}
        assert found(home, "dingoflu") == {"intake.txt"}
        assert found(home, "quokkarash") == set()  # the old text of the changed file is gone
        assert found(home, "wombatitis") == set()  # the deleted file's text too
        assert found(home, "numbatorium") == {"new-name.txt"}  # the renamed file, by its new name
    finally:
        code, err = watcher.stop()
    assert code == 130, err
    assert "Stopped watching; 3 documents in workspace 'sync'." in err
    assert "Traceback" not in err
