"""The desktop window's worker process: the document search model and the workspace indexes.

Why a process: importing torch, encoding with sentence-transformers and chromadb's `upsert` hold
Python's GIL for tens to hundreds of milliseconds at a time. In the window's process that freezes
the event loop even from a worker thread (bench/bench_ui.py measured 739 ms during ingestion
with chromadb in the window's process). In this child they never touch the window's GIL.

The window's side is `WorkerClient` (one per window) with two handles on it: `ProcessEmbedder`
(the router embeds questions) and `ProcessIndex` (search, citations, documents, ingestion). The
child answers each request on its own thread, so a search is not queued behind a long ingest.
Chroma is thread-safe but not process-safe, so the window never opens an index itself.

Protocol: length-prefixed pickles over the child's stdin/stdout. Parent to child:
`(request_id, op, payload)`; child to parent: `(request_id, ok, value)`, where `value` is the
result, or the exception to raise in the parent. Both ends are this program, started by itself.
"""

from __future__ import annotations

import itertools
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from app.errors import EnclaveError

if TYPE_CHECKING:
    from app.container import Enclave
    from rag.index import IngestReport, SearchMode
    from rag.limits import ParseLimits
    from rag.types import Chunk, DocumentRecord, Hit

__all__ = [
    "WORKER_ARGS",
    "ProcessEmbedder",
    "ProcessIndex",
    "WorkerClient",
    "WorkerProcessError",
    "serve",
]

WORKER_ARGS = ("-m", "app.desktop.worker")  # packaging/enclave_entry.py routes it when frozen

# The index methods the window may call (anything else is refused by the child).
INDEX_METHODS = frozenset(
    {"search", "openings", "line_of", "chunk", "documents", "document", "remove", "ingest_file"}
)

_STOPPED = (
    "The document search process stopped unexpectedly. Restart Enclave; if it happens again, "
    "reinstall it."
)


class WorkerProcessError(EnclaveError):
    """The worker process failed or stopped; the message says so in words."""


# -- framing ----------------------------------------------------------------------------------
def _write_frame(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(4, "big") + data)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> Any | None:
    """The next message, or None at the end of the stream."""
    head = stream.read(4)
    if len(head) != 4:
        return None
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) != size:
        return None
    return pickle.loads(body)


# -- the window's side ------------------------------------------------------------------------
class WorkerClient:
    """Starts the worker process and sends it requests from any thread.

    `call` blocks the calling thread (a worker thread, never the GUI's) until the answer comes;
    a reader thread hands each answer to the thread that asked. If the child dies, every
    waiting and later call raises WorkerProcessError.
    """

    def __init__(self, command: Sequence[str] | None = None) -> None:
        root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH", "")) if p
        ))  # fmt: skip
        self._proc = subprocess.Popen(
            list(command or [sys.executable, *WORKER_ARGS]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # libraries' chatter; no content is ever printed there
            env=env,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._stdin, self._stdout = self._proc.stdin, self._proc.stdout
        self._send_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: dict[int, queue.SimpleQueue[tuple[bool, Any]]] = {}
        self._ids = itertools.count(1)
        self._stopped = False
        hello = self._hello()
        self.embedder_name: str = str(hello["name"])
        self.dimension: int = int(hello["dimension"])
        self._reader = threading.Thread(target=self._read_loop, name="enclave-worker-reader")
        self._reader.daemon = True
        self._reader.start()

    def _hello(self) -> dict[str, Any]:
        try:
            message = _read_frame(self._stdout)
        except Exception:
            message = None
        if message is None:
            self.close()
            raise WorkerProcessError(_STOPPED)
        _rid, ok, body = message
        value = pickle.loads(body)
        if not ok:
            self.close()
            raise WorkerProcessError(str(value))
        hello: dict[str, Any] = value
        return hello

    def call(self, op: str, payload: object, cancel: Callable[[], bool] | None = None) -> Any:
        """Send one request and wait for its answer. While waiting, `cancel()` is polled every
        50 ms; when it turns true the child is asked to cancel (the answer then says how)."""
        rid = next(self._ids)
        answer: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        with self._pending_lock:
            if self._stopped:
                raise WorkerProcessError(_STOPPED)
            self._pending[rid] = answer
        self._send((rid, op, payload))
        asked_to_cancel = False
        while True:
            try:
                ok, value = answer.get(timeout=0.05 if cancel is not None else None)
                break
            except queue.Empty:
                if not asked_to_cancel and cancel is not None and cancel():
                    self._send((next(self._ids), "cancel", rid))
                    asked_to_cancel = True
        if isinstance(value, bytes):  # the child's answer, unpickled here, not on the reader
            try:
                value = pickle.loads(value)
            except Exception as exc:
                ok, value = False, WorkerProcessError(f"An answer could not be read: {exc}")
        if ok:
            return value
        raise value

    def _send(self, message: tuple[int, str, object]) -> None:
        try:
            with self._send_lock:
                _write_frame(self._stdin, message)
        except (BrokenPipeError, ValueError, OSError) as exc:
            self._fail_pending()
            raise WorkerProcessError(_STOPPED) from exc

    def _read_loop(self) -> None:
        while True:
            try:
                message = _read_frame(self._stdout)
            except Exception:
                message = None
            if message is None:
                break
            rid, ok, value = message
            with self._pending_lock:
                waiting = self._pending.pop(rid, None)
            if waiting is not None:
                waiting.put((ok, value))
        self._fail_pending()

    def _fail_pending(self) -> None:
        with self._pending_lock:
            self._stopped = True
            waiting = list(self._pending.values())
            self._pending.clear()
        for answer in waiting:
            answer.put((False, WorkerProcessError(_STOPPED)))

    @property
    def pid(self) -> int:
        """The worker process's id."""
        return int(self._proc.pid)

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    def close(self, timeout_s: float = 30) -> None:
        """End the child: it cancels what runs, closes its indexes cleanly and exits when its
        input closes. Killed if it has not exited after `timeout_s`."""
        proc = self._proc
        if proc.poll() is None:
            try:
                self._stdin.close()
                proc.wait(timeout=timeout_s)
            except Exception:
                proc.kill()
                proc.wait()


class ProcessEmbedder:
    """The document search model in the worker process (rag.embedder.Embedder's interface)."""

    def __init__(self, client: WorkerClient) -> None:
        self._client = client
        self.name = client.embedder_name
        self.dimension = client.dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors: list[list[float]] = self._client.call("embed", list(texts))
        return vectors


class ProcessIndex:
    """A workspace's index, opened and used in the worker process (rag.index.DocumentIndex)."""

    def __init__(self, client: WorkerClient, workspace_id: str) -> None:
        self._client = client
        self.workspace_id = workspace_id

    def _call(self, method: str, *args: object, **kwargs: object) -> Any:
        cancel = kwargs.pop("cancel", None)
        return self._client.call(
            "index",
            (self.workspace_id, method, args, kwargs),
            cancel if callable(cancel) else None,
        )

    def search(
        self,
        query: str,
        k: int = 5,
        mode: SearchMode = "hybrid",
        documents: Sequence[str] | None = None,
    ) -> list[Hit]:
        docs = None if documents is None else list(documents)
        hits: list[Hit] = self._call("search", query, k=k, mode=mode, documents=docs)
        return hits

    def openings(self, documents: Sequence[str] | None = None) -> list[Hit]:
        docs = None if documents is None else list(documents)
        hits: list[Hit] = self._call("openings", docs)
        return hits

    def line_of(self, doc_id: str, offset: int) -> int:
        line: int = self._call("line_of", doc_id, offset)
        return line

    def chunk(self, chunk_id: str) -> Chunk:
        chunk: Chunk = self._call("chunk", chunk_id)
        return chunk

    def documents(self) -> list[DocumentRecord]:
        records: list[DocumentRecord] = self._call("documents")
        return records

    def document(self, doc_id: str) -> DocumentRecord | None:
        record: DocumentRecord | None = self._call("document", doc_id)
        return record

    def remove(self, doc_id_or_path: str | Path) -> bool:
        return bool(self._call("remove", doc_id_or_path))

    def ingest_file(
        self,
        path: Path,
        *,
        password: str | None = None,
        limits: ParseLimits | None = None,
        cancel: Callable[[], bool] | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> IngestReport:
        """As WorkspaceIndex.ingest_file, in the worker. `progress` is not forwarded (the window
        reports progress per file); `cancel` is polled here and passed on to the child."""
        report: IngestReport = self._call(
            "ingest_file", Path(path), password=password, limits=limits, cancel=cancel
        )
        return report

    def close(self) -> None:
        """Nothing to do here: the worker owns the index and closes it when it ends."""


# -- the worker's side ------------------------------------------------------------------------
def _handle(enclave: Enclave, op: str, payload: Any, cancelled: threading.Event) -> Any:
    if op == "embed":
        return enclave.embedder.embed(payload)
    if op == "close_index":
        enclave.workspaces.close_index(str(payload))
        return None
    if op == "index":
        workspace_id, method, args, kwargs = payload
        if method not in INDEX_METHODS:
            raise WorkerProcessError(f"The worker does not offer {method!r}.")
        index = enclave.index(enclave.workspaces.get(workspace_id))
        if method == "ingest_file":
            kwargs = dict(kwargs, cancel=cancelled.is_set)
        return getattr(index, method)(*args, **kwargs)
    raise WorkerProcessError(f"Unknown request {op!r}.")


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return WorkerProcessError(str(exc) or type(exc).__name__)


def serve(inp: IO[bytes], out: IO[bytes]) -> int:
    """Load the search model, then answer requests until `inp` ends; then cancel what runs and
    close every index cleanly."""
    from app.container import Enclave

    send_lock = threading.Lock()

    def send(rid: int, ok: bool, value: object) -> None:
        try:
            body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            ok, body = False, pickle.dumps(WorkerProcessError(f"Unsendable answer: {exc}"))
        with send_lock:
            _write_frame(out, (rid, ok, body))

    from app.bootstrap import record_egress
    from app.logfile import open_log

    enclave = Enclave()
    open_log(enclave.paths.logs)
    record_egress(enclave.ledger)
    try:
        embedder = enclave.embedder
    except Exception as exc:
        send(0, False, f"The document search model could not be loaded: {exc}")
        return 1
    send(0, True, {"name": embedder.name, "dimension": embedder.dimension})

    cancels: dict[int, threading.Event] = {}

    def run(rid: int, op: str, payload: Any) -> None:
        try:
            result = _handle(enclave, op, payload, cancels[rid])
        except BaseException as exc:  # every failure goes back to the caller, in words
            send(rid, False, _picklable(exc))
        else:
            send(rid, True, result)
        finally:
            cancels.pop(rid, None)

    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="enclave-worker")
    try:
        while (message := _read_frame(inp)) is not None:
            rid, op, payload = message
            if op == "cancel":
                event = cancels.get(payload)
                if event is not None:
                    event.set()
                continue
            cancels[rid] = threading.Event()
            pool.submit(run, rid, op, payload)
    finally:
        for event in list(cancels.values()):
            event.set()
        pool.shutdown(wait=True)
        enclave.close()
    return 0


def main() -> int:
    """`python -m app.desktop.worker`: the child's entry point."""
    from app.bootstrap import secure_process

    secure_process()  # telemetry off and the egress guard on, before torch or chromadb
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    return serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    # Run the module imported under its own name, so the exceptions it sends back pickle as
    # app.desktop.worker.X (which the window can load), not as __main__.X.
    from app.desktop.worker import main as _main

    raise SystemExit(_main())
