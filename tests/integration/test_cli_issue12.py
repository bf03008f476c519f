"""Issue 12, the command line, end to end: real `python -m app` processes, real signals, real
chromadb on disk, the real embedder and the real SmolLM2 model.

- Ctrl-C (a real SIGINT) while `enclave ask` answers: exit 130, no traceback; in `enclave shell`
  it stops the answer and the shell takes the next command.
- Readers while another process ingests: `search`, `documents list` and `ask` answer (from what
  is committed so far); a second ingest waits for the first, saying so; an idle shell keeps
  nobody out.
- Small faults: a mistyped workspace is refused (`--create` makes one), rename to a taken name,
  delete without a terminal, a closed pipe, an unknown export format, `/help` in the shell, and
  `documents list` without the search model.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.cli_helpers import REPO, enclave, json_lines

pytestmark = pytest.mark.slow

CONTRACT = "LIMEENERGYCO_09_09_1999-EX-10-DISTRIBUTOR AGREEMENT.txt"
# A question the contract answers (so the model is asked: an unanswered one ends at once with
# "Not found"); the SIGINT comes as soon as the model starts writing.
LONG_QUESTION = "Which state's law governs the distributor agreement?"


class Child:
    """A running `python -m app` whose stdout and stderr are collected as they arrive."""

    def __init__(self, home: Path, *args: str, stdin: int | None = subprocess.DEVNULL) -> None:
        env = dict(os.environ, ENCLAVE_HOME=str(home), PYTHONUNBUFFERED="1")
        env["ENCLAVE_MAX_ANSWER_TOKENS"] = "1500"  # long enough to be interrupted
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            env=env,
            cwd=REPO,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _pump(stream: object, into: list[str]) -> None:
        assert stream is not None
        for chunk in iter(lambda: stream.read(1), ""):  # type: ignore[attr-defined]
            into.append(chunk)

    @property
    def stdout(self) -> str:
        return "".join(self.out)

    @property
    def stderr(self) -> str:
        return "".join(self.err)

    def wait_for(self, text: str, *, timeout: float, stream: str = "stdout") -> float:
        """Seconds until `text` appears in the stream (fails after `timeout`)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if text in (self.stdout if stream == "stdout" else self.stderr):
                return time.monotonic() - start
            if self.proc.poll() is not None and text not in getattr(self, stream):
                time.sleep(0.2)  # let the pumps catch up once
                if text in getattr(self, stream):
                    return time.monotonic() - start
                raise AssertionError(f"ended without {text!r}:\n{self.stdout}\n{self.stderr}")
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} after {timeout} s:\n{self.stdout}\n{self.stderr}")

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, eval_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("issue12-home")
    matter = tmp_path_factory.mktemp("matter")
    shutil.copy(eval_dir / "cuad" / "contracts" / CONTRACT, matter / CONTRACT)
    enclave(home, "workspaces", "create", "ACME")
    enclave(home, "ingest", str(matter), "--workspace", "acme")
    return home


@pytest.fixture
def many(tmp_path: Path, eval_dir: Path) -> Path:
    """Eight real contracts other than the one already indexed: a real ingest of a minute."""
    folder = tmp_path / "many"
    folder.mkdir()
    contracts = sorted((eval_dir / "cuad" / "contracts").glob("*.txt"))
    for path in [p for p in contracts if p.name != CONTRACT][:8]:
        shutil.copy(path, folder / path.name)
    return folder


def lock_holder(home: Path, workspace: str) -> str:
    lock = home / "data" / "workspaces" / workspace / "index" / ".lock"
    return lock.read_text().strip() if lock.exists() else ""


def wait_until_ingesting(home: Path, child: Child, workspace: str) -> None:
    """Until the child holds the workspace and has committed a first document."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if lock_holder(home, workspace).startswith(str(child.proc.pid)) and "indexed" in (
            child.stdout
        ):
            return
        assert child.proc.poll() is None, child.stdout + child.stderr
        time.sleep(0.1)
    raise AssertionError("the ingest never started")


def timed(home: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    proc = enclave(home, *args, check=False)
    return proc, time.monotonic() - start


# -- 3. Ctrl-C ------------------------------------------------------------------------------


def test_ctrl_c_during_ask_exits_130_without_traceback(home: Path) -> None:
    child = Child(home, "ask", LONG_QUESTION, "--workspace", "acme", "--quick")
    # The model has started writing (the draft is never printed: only checked answers are).
    child.wait_for("Checking the answer", timeout=180, stream="stderr")
    child.proc.send_signal(signal.SIGINT)
    code = child.finish(timeout=60)
    assert code == 130, (code, child.stdout, child.stderr)
    assert "Traceback" not in child.stderr and "Error" not in child.stderr, child.stderr
    assert "Stopped." in child.stderr


def test_ctrl_c_while_ask_is_still_loading_exits_130_without_traceback(home: Path) -> None:
    child = Child(home, "ask", LONG_QUESTION, "--workspace", "acme", "--quick")
    time.sleep(3)  # past start-up, before (or during) retrieval and model loading
    child.proc.send_signal(signal.SIGINT)
    code = child.finish(timeout=120)
    assert code == 130, (code, child.stdout, child.stderr)
    assert "Traceback" not in child.stderr, child.stderr


def test_ctrl_c_in_shell_stops_the_answer_and_the_shell_goes_on(home: Path) -> None:
    child = Child(home, "shell", "--workspace", "acme", stdin=subprocess.PIPE)
    child.wait_for("> ", timeout=60)
    child.send(LONG_QUESTION)
    child.wait_for("Checking the answer", timeout=180, stream="stderr")  # the model writes
    child.proc.send_signal(signal.SIGINT)
    child.wait_for("(stopped)", timeout=60)
    child.send("/help")
    child.wait_for("/quit", timeout=30)
    child.send("")
    assert child.finish(timeout=60) == 0, child.stderr
    assert "Traceback" not in child.stderr, child.stderr


# -- 5. readers during a write --------------------------------------------------------------


def test_readers_answer_while_another_process_ingests(home: Path, many: Path) -> None:
    enclave(home, "workspaces", "create", "busy")
    writer = Child(home, "ingest", str(many), "--workspace", "busy")
    try:
        wait_until_ingesting(home, writer, "busy")
        search, search_s = timed(home, "search", "governing law", "-w", "busy", "--json")
        listed, list_s = timed(home, "documents", "list", "-w", "busy", "--json")
        second = Child(home, "ingest", str(many), "--workspace", "busy")
        waited_s = second.wait_for("waiting for it", timeout=60, stream="stderr")
        asked, ask_s = timed(home, "ask", "What law governs the agreement?", "-w", "busy")
    finally:
        writer_code = writer.finish()
    print(f"\nreader latency during a real ingest: search {search_s:.2f} s, "
          f"documents list {list_s:.2f} s, ask {ask_s:.2f} s; second ingest said it waits "
          f"after {waited_s:.2f} s")  # fmt: skip
    assert writer_code == 0, writer.stderr
    for proc in (search, listed, asked):
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    assert search_s < 10 and list_s < 10
    assert "in use by another Enclave process" in search.stderr
    assert json_lines(search.stdout), "word search finds the contracts committed so far"
    docs = json_lines(listed.stdout)
    assert docs and all(d["status"] == "indexed" for d in docs), docs  # never half a document
    assert asked.stdout.strip()
    assert second.finish() == 0, second.stderr
    assert "Traceback" not in second.stderr
    assert "unchanged" in second.stdout  # it ran after the first one, on the same files


def test_an_idle_shell_keeps_nobody_out(home: Path, eval_dir: Path, tmp_path: Path) -> None:
    shell = Child(home, "shell", "--workspace", "acme", stdin=subprocess.PIPE)
    try:
        shell.wait_for("> ", timeout=60)
        shell.send("What law governs the agreement?")
        deadline = time.monotonic() + 240
        while shell.stdout.count("\n> ") < 2:  # answered: the next prompt, the shell is idle
            assert time.monotonic() < deadline and shell.proc.poll() is None, shell.stdout
            time.sleep(0.1)
        time.sleep(0.5)
        extra = tmp_path / "extra.txt"
        extra.write_text("The courier shall deliver the parcel to Lyon within 3 days.\n")
        proc, seconds = timed(home, "ingest", str(extra), "-w", "acme")
        assert proc.returncode == 0, proc.stderr
        assert "waiting" not in proc.stderr, proc.stderr
        assert seconds < 120
    finally:
        shell.send("")
        assert shell.finish(timeout=60) == 0, shell.stderr


# -- 10. small faults -----------------------------------------------------------------------


def test_a_mistyped_workspace_is_refused_and_create_makes_one(home: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("The lease ends on 31 March 2031.\n")
    for args in (("ingest", str(note), "-w", "acmee"), ("shell", "-w", "acmee")):
        proc = enclave(home, *args, check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "no workspace called 'acmee'" in proc.stderr and "ACME" in proc.stderr
        assert "--create" in proc.stderr
    names = [w["name"] for w in json_lines(enclave(home, "workspaces", "list", "--json").stdout)]
    assert "acmee" not in names
    enclave(home, "ingest", str(note), "-w", "Lease 9", "--create")
    assert "Lease 9" in enclave(home, "workspaces", "list").stdout


def test_rename_refuses_a_taken_name_and_delete_needs_yes_without_a_terminal(
    home: Path,
) -> None:
    enclave(home, "workspaces", "create", "Draft")
    proc = enclave(home, "workspaces", "rename", "draft", "acme", check=False)
    assert proc.returncode == 1 and "already exists" in proc.stderr, proc.stderr
    proc = enclave(home, "workspaces", "delete", "draft", check=False)  # stdin: /dev/null
    assert proc.returncode == 1 and "--yes" in proc.stderr and "Traceback" not in proc.stderr
    assert "Draft" in enclave(home, "workspaces", "list").stdout
    enclave(home, "workspaces", "rename", "draft", "Draft 2")
    assert "Draft 2" in enclave(home, "workspaces", "list").stdout
    enclave(home, "workspaces", "delete", "Draft 2", "--yes")  # found by its new name
    assert "Draft" not in enclave(home, "workspaces", "list").stdout


def test_output_into_a_closed_pipe_ends_quietly(home: Path) -> None:
    for args in (("documents", "list", "-w", "acme"), ("search", "distributor", "-w", "acme")):
        env = dict(os.environ, ENCLAVE_HOME=str(home))
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader goes away before anything is written (`| head -0`)
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
        assert code == 141, (code, err)
        assert err.strip() == "", err


def test_export_refuses_an_unknown_format(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "matter.pdf"
    proc = enclave(home, "conversations", "export", "nope", "-o", str(out), check=False)
    assert proc.returncode == 1 and ".md" in proc.stderr and ".html" in proc.stderr
    assert not out.exists()


def test_help_in_the_shell_is_a_command(home: Path) -> None:
    shell = Child(home, "shell", "-w", "acme", stdin=subprocess.PIPE)
    shell.send("/help")
    shell.send("/what")
    shell.send("")
    assert shell.finish(timeout=120) == 0, shell.stderr
    assert "/new" in shell.stdout and "/quit" in shell.stdout
    assert "There is no command /what" in shell.stdout
    assert "[1]" not in shell.stdout and "route:" not in shell.stderr  # no question was asked


def test_documents_list_reads_the_manifest_alone(home: Path) -> None:
    timings: list[float] = []
    for _ in range(3):
        proc, seconds = timed(home, "documents", "list", "-w", "acme", "--json")
        assert proc.returncode == 0, proc.stderr
        timings.append(seconds)
    names = [d["name"] for d in json_lines(proc.stdout)]
    assert CONTRACT in names
    print(f"\ndocuments list: {', '.join(f'{s:.2f}' for s in timings)} s")
    assert min(timings) < 5  # well under a second on a quiet machine
