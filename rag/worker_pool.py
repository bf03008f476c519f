"""One spare parse worker, started ahead of the file it will read.

A parse worker (rag.parse_worker) costs about 0.2 s of CPU and, on a loaded 2-core machine,
0.5-1 s of wall-clock time to start Python and import its parsers, before it reads a byte of
the file. `SpareWorker` hides that: it keeps ONE spare worker process started and waiting on its
stdin for a request. `take()` hands the spare to the caller and at once starts the next one, so
the next start overlaps this file's parse and its embedding.

Isolation is unchanged: a worker still reads exactly one file and then exits (a hostile file
never shares a process with another file); it applies its memory and CPU limits after it has
read its request and before it opens the file (rag.parse_worker).

No worker is left behind: a spare that is never used exits when its stdin closes, which happens
when `close()` discards it, when this process exits normally (atexit) or is killed (the kernel
closes the pipe's write end). A spare is checked before it is used: one that has died (crashed,
killed) or that was started with another command is discarded and a fresh worker started.

Decided by measurement (bench/results/bigfolder.md; 120 PDF/DOCX/HTML files through extract(),
0.2 s of busy CPU in between as a stand-in for embedding, 2 cores, load 0.7-1.7):
a fresh worker per file 0.264 s per file beyond the stand-in; a spare that imports only rag's
own modules 0.257 s; a spare that also imports every parser (pypdfium2, python-docx, lxml;
rag.parse_worker.PRELOAD) 0.213 s, for about 0.17 s more CPU per file (every spare imports
the parsers a file of another kind does not need). The spare imports every parser. The OCR
engine (OpenCV, onnxruntime: seconds to import) stays lazy: few files need it.

Thread-safe: any thread may call `take()` and `close()`; the spare slot is guarded by a lock.
"""

from __future__ import annotations

import atexit
import contextlib
import subprocess
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

Worker = subprocess.Popen[bytes]


class SpareWorker:
    """Starts parse workers with `command()` in `cwd`, keeping one spare ready (see the module
    docstring). `command` is called at each start, so a changed command takes effect at once."""

    def __init__(self, command: Callable[[], Sequence[str]], cwd: Path) -> None:
        self._command = command
        self._cwd = cwd
        self._lock = threading.Lock()
        self._spare: Worker | None = None
        self._spare_command: list[str] = []
        _ALL.add(self)

    @property
    def spare(self) -> Worker | None:
        """The spare worker waiting for a request, or None (for tests and diagnostics)."""
        with self._lock:
            return self._spare

    def take(self) -> Worker:
        """A started worker waiting for its request on stdin (the spare when it is alive and was
        started with today's command, else a fresh one), and the next spare started.

        Raises OSError when no worker can be started. The caller owns the worker: it writes the
        request, closes stdin, reads the result, and kills it on a timeout."""
        command = list(self._command())
        with self._lock:
            spare, self._spare = self._spare, None
            spare_command = self._spare_command
        if spare is not None and (spare_command != command or spare.poll() is not None):
            _discard(spare)
            spare = None
        worker = spare if spare is not None else self._start(command)
        self._refill(command)
        return worker

    def close(self) -> None:
        """Stop the spare, if any (a later `take()` starts workers again)."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            _discard(spare)

    def _refill(self, command: list[str]) -> None:
        with self._lock:
            if self._spare is not None:
                return
            try:
                self._spare, self._spare_command = self._start(command), command
            except OSError:  # the next take() starts one itself and reports the failure
                self._spare = None

    def _start(self, command: list[str]) -> Worker:
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self._cwd,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )


def _discard(worker: Worker) -> None:
    """End a worker that holds no request: closing stdin makes it exit; kill it all the same
    (it has nothing to finish) and reap it."""
    for stream in (worker.stdin, worker.stdout, worker.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    with contextlib.suppress(OSError):
        worker.kill()
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        worker.wait(timeout=10)


_ALL: weakref.WeakSet[SpareWorker] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for pool in list(_ALL):
        pool.close()
