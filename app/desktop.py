"""What the desktop window needs from the app that the command line does not.

Plain Python, no Qt: the `ui` layer imports this module (and never `models` or `rag`). Every
function runs on the caller's thread; the ones marked "slow" must be called from a worker thread
(they load models, hash files or open indexes).

The types the window shows are re-exported here, so `ui` names them without reaching past `app`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.chat import ChatAnswer, ChatError, Route, SourcesFound, Token
from app.container import Enclave
from app.history import Conversation, StoredMessage
from app.ingest import FileOutcome, IngestProgress, IngestSummary, ingest_paths
from app.privacy.egress import GUARD
from app.workspaces import Workspace, WorkspaceError
from models.types import CancelToken, ModelRecord
from rag.types import Citation, DocumentRecord, Hit

if TYPE_CHECKING:
    from app.history import HistoryStore
    from rag.embedder import Embedder
    from rag.index import WorkspaceIndex

__all__ = [
    "OFFLINE_TEXT",
    "CancelToken",
    "ChatAnswer",
    "ChatError",
    "Citation",
    "Conversation",
    "DesktopEnclave",
    "DocumentRecord",
    "EmbedderProcessError",
    "FileOutcome",
    "HardwareSummary",
    "Hit",
    "IngestProgress",
    "IngestSummary",
    "ModelRecord",
    "Passage",
    "PrivacyStatus",
    "ProcessEmbedder",
    "Route",
    "SourcesFound",
    "StoredMessage",
    "Token",
    "WarmUp",
    "Workspace",
    "WorkspaceError",
    "WorkspaceIndexProvider",
    "citation_passage",
    "hardware_summary",
    "import_model",
    "ingest_paths",
    "installed_models",
    "preload_native_libraries",
    "privacy_status",
    "regenerate_question",
    "set_gpu_layers",
    "supported_suffixes",
    "transcript",
    "warm_up",
]

OFFLINE_TEXT = "Offline: nothing has left this computer"
WorkspaceIndexProvider = Callable[[Workspace], "WorkspaceIndex"]


# -- privacy ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrivacyStatus:
    """What the status bar's privacy indicator says, read from the guard and the audit ledger."""

    text: str
    left_computer: bool
    guard_on: bool
    detail: str  # a longer explanation for a tooltip


def privacy_status(enclave: Enclave) -> PrivacyStatus:
    """Read the egress guard and (when present) the audit ledger. Cheap: call it from a timer."""
    refused = GUARD.refused_count
    open_now = GUARD.open_allowances
    sent = 0
    destination = ""
    ledger_note = "The audit ledger is not available in this version."
    try:
        from app.privacy.ledger import AuditLedger

        summary = AuditLedger.for_paths(enclave.paths).summary()
        sent = summary.allowed_outbound + summary.frontier_calls
        refused = max(refused, summary.refused)
        if summary.last_outbound is not None:
            destination = str(summary.last_outbound.get("destination", ""))
        ledger_note = f"The audit ledger holds {summary.entries} entries."
    except ImportError:
        pass
    except Exception as exc:  # a damaged ledger must not hide the indicator
        ledger_note = f"The audit ledger cannot be read ({type(exc).__name__})."
    blocked = f"{refused} connection attempt(s) blocked." if refused else "No connection attempts."
    if not GUARD.installed:
        return PrivacyStatus(
            "Offline guard is OFF: connections are not being checked",
            left_computer=sent > 0,
            guard_on=False,
            detail=f"The egress guard was not installed in this process. {ledger_note}",
        )
    if open_now:
        return PrivacyStatus(
            "Sending now: an approved request is leaving this computer",
            left_computer=True,
            guard_on=True,
            detail=f"{open_now} approved connection(s) open. {blocked} {ledger_note}",
        )
    if sent:
        where = f" (last: {destination})" if destination else ""
        return PrivacyStatus(
            f"{sent} approved request(s) have left this computer{where}",
            left_computer=True,
            guard_on=True,
            detail=f"See `enclave audit` for each one. {blocked} {ledger_note}",
        )
    return PrivacyStatus(
        OFFLINE_TEXT,
        left_computer=False,
        guard_on=True,
        detail=(f"The egress guard allows loopback connections only. {blocked} {ledger_note}"),
    )


# -- start-up ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WarmUp:
    model_id: str
    device: str


def warm_up(enclave: Enclave, progress: Callable[[str], None] | None = None) -> WarmUp:
    """Slow: register the built-in model, load the default model and the document search model.

    `progress(text)` is called on the caller's thread before each step.
    """
    say = progress or (lambda _text: None)
    model_id = enclave.settings.default_model
    say("Checking the installed models…")
    enclave.catalog.get(model_id)
    say(f"Loading the model {model_id}…")
    engine = enclave.engines.get(model_id)
    say("Loading the document search model…")
    preload_native_libraries()
    _ = enclave.embedder
    return WarmUp(model_id=model_id, device=engine.device)


def preload_native_libraries() -> list[str]:
    """Load torch's big native libraries through libc's dlopen, with the GIL released.

    Importing torch runs the static initialisers of libtorch_cpu (hundreds of milliseconds)
    inside an import that holds the GIL, which freezes the window's event loop for that long
    even though the import runs on a worker thread. A ctypes call into libc releases the GIL,
    so loading the same files this way first lets that work run while the GUI thread keeps
    going; the later `import torch` finds them already loaded. Same files, same flags, same order
    as torch's own `__init__`. Best effort: POSIX only, never raises, nothing is imported.
    """
    import ctypes
    import importlib.util
    import os
    import sys

    if sys.platform == "win32":
        return []
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    ext = ".dylib" if sys.platform == "darwin" else ".so"
    wanted = [(root / "lib" / f"libtorch_global_deps{ext}", os.RTLD_GLOBAL | os.RTLD_NOW)]
    wanted += [(p, sys.getdlopenflags()) for p in sorted(root.glob("_C.*.so"))[:1]]
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return []
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    dlopen.restype = ctypes.c_void_p
    loaded = []
    for path, flags in wanted:
        if path.is_file() and dlopen(os.fsencode(path), flags):  # handle kept: stays loaded
            loaded.append(path.name)
    return loaded


# -- the document search model in its own process ----------------------------------------------
EMBEDDER_WORKER_ARGS = ("-m", "app.desktop", "--embedder-worker")


class EmbedderProcessError(RuntimeError):
    """The document search model's process failed; the message says so in words."""


class ProcessEmbedder:
    """The real sentence-transformers embedder, run in a child process.

    Importing torch and loading the model hold Python's GIL for hundreds of milliseconds at a
    time; in the window's process that freezes the event loop (bench/bench_ui.py measured
    ~0.5 s), even from a worker thread. In a child process the window never imports torch.
    Requests are serialised (one lock); each is a length-prefixed JSON message over pipes.
    `embed` runs on the caller's thread and blocks until the child answers.
    """

    def __init__(self, command: Sequence[str] | None = None, timeout_s: float = 600) -> None:
        import os
        import subprocess
        import sys
        import threading

        root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH", "")) if p
        ))  # fmt: skip
        self._proc = subprocess.Popen(
            list(command or [sys.executable, *EMBEDDER_WORKER_ARGS]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._lock = threading.Lock()
        self._timeout_s = timeout_s
        hello = self._receive()
        if "error" in hello:
            self.close()
            raise EmbedderProcessError(str(hello["error"]))
        self.name: str = str(hello["name"])
        self.dimension: int = int(hello["dimension"])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            self._send({"texts": list(texts)})
            reply = self._receive()
        if "error" in reply:
            raise EmbedderProcessError(str(reply["error"]))
        vectors: list[list[float]] = reply["vectors"]
        return vectors

    def close(self) -> None:
        """End the child (it exits when its input closes), waiting a few seconds at most."""
        proc = self._proc
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(timeout=5)
            except Exception:
                proc.kill()
                proc.wait()

    def _send(self, message: dict[str, object]) -> None:
        import json

        data = json.dumps(message).encode("utf-8")
        try:
            assert self._proc.stdin is not None
            self._proc.stdin.write(len(data).to_bytes(4, "big") + data)
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise EmbedderProcessError(_STOPPED) from exc

    def _receive(self) -> dict[str, Any]:
        import json

        assert self._proc.stdout is not None
        head = self._proc.stdout.read(4)
        body = self._proc.stdout.read(int.from_bytes(head, "big")) if len(head) == 4 else b""
        if len(head) != 4 or not body:
            raise EmbedderProcessError(_STOPPED)
        message: dict[str, Any] = json.loads(body)
        return message


_STOPPED = (
    "The document search model stopped unexpectedly. Restart Enclave; if it happens again, "
    "reinstall it."
)


def serve_embedder() -> int:
    """The child's side of ProcessEmbedder: load the model, then answer until input closes."""
    import json
    import os
    import sys

    from app.bootstrap import secure_process

    secure_process()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    inp = sys.stdin.buffer

    def send(message: dict[str, object]) -> None:
        data = json.dumps(message).encode("utf-8")
        out.write(len(data).to_bytes(4, "big") + data)
        out.flush()

    try:
        from rag.embedder import SentenceTransformerEmbedder, default_embedder_path

        embedder = SentenceTransformerEmbedder(default_embedder_path())
    except Exception as exc:
        send({"error": str(exc) or type(exc).__name__})
        return 1
    send({"name": embedder.name, "dimension": embedder.dimension})
    while True:
        head = inp.read(4)
        if len(head) != 4:
            return 0
        request = json.loads(inp.read(int.from_bytes(head, "big")))
        try:
            send({"vectors": embedder.embed(request["texts"])})
        except Exception as exc:
            send({"error": f"The document search model failed: {type(exc).__name__}"})


class DesktopEnclave(Enclave):
    """The window's Enclave: the same services, with the embedder in a child process (a frozen
    app, which cannot start `python -m`, keeps it in-process until its entry point routes
    EMBEDDER_WORKER_ARGS)."""

    @property
    def embedder(self) -> Embedder:
        import sys

        with self._embedder_lock:
            if self._embedder is None:
                if getattr(sys, "frozen", False):
                    from rag.embedder import SentenceTransformerEmbedder, default_embedder_path

                    self._embedder = SentenceTransformerEmbedder(default_embedder_path())
                else:
                    self._embedder = ProcessEmbedder()
            return self._embedder

    def close(self) -> None:
        super().close()
        embedder = self._embedder
        if isinstance(embedder, ProcessEmbedder):
            embedder.close()


# -- models and hardware ----------------------------------------------------------------------
@dataclass(frozen=True)
class HardwareSummary:
    backend: str  # "CPU", "CUDA", "Metal", ...
    gpu_offload_supported: bool
    physical_cores: int
    logical_cores: int
    threads: int
    n_gpu_layers: int
    devices: tuple[str, ...]
    llama_cpp_version: str


def hardware_summary(enclave: Enclave) -> HardwareSummary:
    """Slow (imports llama.cpp, about 0.2 s): the hardware llama.cpp can use here."""
    from models.hardware import detect_hardware

    hw = detect_hardware()
    devices = tuple(
        f"{d.description or d.name} ({d.type}"
        + (f", {d.memory_total / 2**30:.1f} GiB" if d.memory_total else "")
        + ")"
        for d in hw.devices
    )
    return HardwareSummary(
        backend=hw.display_backend,
        gpu_offload_supported=hw.gpu_offload_supported,
        physical_cores=hw.physical_cores,
        logical_cores=hw.logical_cores,
        threads=enclave.settings.n_threads or hw.physical_cores,
        n_gpu_layers=enclave.settings.n_gpu_layers,
        devices=devices,
        llama_cpp_version=hw.llama_cpp_version,
    )


def installed_models(enclave: Enclave) -> list[ModelRecord]:
    """Slow the first time (registers the built-in model): the installed models."""
    return enclave.catalog.list()


def import_model(
    enclave: Enclave,
    path: Path,
    *,
    domains: Sequence[str] = ("general",),
    licence: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ModelRecord:
    """Slow: check, copy (hashing, with `progress(done_bytes, total_bytes)`), test-load and
    register a GGUF file. Raises ValueError with the reason a file is refused."""
    return enclave.catalog.import_file(
        Path(path), domains=tuple(domains), licence=licence, progress=progress
    )


def set_gpu_layers(enclave: Enclave, n_gpu_layers: int) -> str:
    """Save the GPU-layers setting; it applies the next time a model is loaded."""
    enclave.settings.n_gpu_layers = max(-1, int(n_gpu_layers))
    enclave.settings.save(enclave.paths.settings_file)
    which = "every layer" if n_gpu_layers < 0 else f"{n_gpu_layers} layer(s)"
    return f"Saved: {which} on the GPU. This applies when Enclave is next started."


# -- documents --------------------------------------------------------------------------------
def supported_suffixes() -> tuple[str, ...]:
    """File name endings that can be added to a workspace (".pdf", ".docx", ...)."""
    from rag.extract import SUPPORTED_SUFFIXES

    return tuple(SUPPORTED_SUFFIXES)


@dataclass(frozen=True)
class Passage:
    """The chunk a citation points into, with the verified quote's place in it (if any)."""

    document: str
    path: str
    page: int
    text: str
    quote_start: int  # offsets into `text`; both -1 when no verified quote can be shown
    quote_end: int
    verified: bool
    note: str = ""


def citation_passage(
    index_for: WorkspaceIndexProvider, workspace: Workspace, citation: Citation
) -> Passage:
    """Slow the first time (opens the workspace index, e.g. `enclave.index`): the passage
    behind a citation, with the verified quote located in it."""
    index = index_for(workspace)
    try:
        chunk = index.chunk(citation.chunk_id)
    except KeyError:
        quote = citation.quote if citation.verified else ""
        return Passage(
            citation.document, citation.path, citation.page, quote,
            0 if quote else -1, len(quote) if quote else -1, bool(quote),
            "The document has been re-indexed or removed since this answer; "
            + ("only the quote is shown." if quote else "its passage is no longer available."),
        )  # fmt: skip
    start, end = citation.start - chunk.start, citation.end - chunk.start
    ok = (
        citation.verified
        and 0 <= start < end <= len(chunk.text)
        and chunk.text[start:end] == citation.quote
    )
    if not ok and citation.verified and citation.quote:
        found = chunk.text.find(citation.quote)
        ok = found >= 0
        start, end = found, found + len(citation.quote)
    note = "" if ok else "No quote from this passage could be verified, so none is highlighted."
    return Passage(
        citation.document, citation.path, chunk.page, chunk.text,
        start if ok else -1, end if ok else -1, ok, note,
    )  # fmt: skip


# -- conversations ----------------------------------------------------------------------------
def regenerate_question(history: HistoryStore, conversation_id: str) -> str:
    """Drop the newest answer of a conversation and return the question to ask again."""
    messages = history.messages(conversation_id)
    last_user = next((m for m in reversed(messages) if m.role == "user"), None)
    if last_user is None:
        raise ChatError("There is no question to ask again in this conversation.")
    if messages and messages[-1].role == "assistant":
        history.delete_last_assistant_message(conversation_id)
    return last_user.content


_SPACES = re.compile(r"\s+")


def transcript(messages: Sequence[StoredMessage]) -> list[tuple[str, StoredMessage | None]]:
    """(question, answer) pairs of a stored conversation, in order.

    A question asked again (Regenerate) is stored twice in a row: only the last copy is kept.
    An answer is None when the question was never answered (an error, or the app was closed).
    """
    pairs: list[tuple[str, StoredMessage | None]] = []
    for msg in messages:
        if msg.role == "user":
            if pairs and pairs[-1][1] is None and _same(pairs[-1][0], msg.content):
                pairs.pop()
            pairs.append((msg.content, None))
        elif msg.role == "assistant" and pairs and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], msg)
    return pairs


def _same(a: str, b: str) -> bool:
    return _SPACES.sub(" ", a.strip()) == _SPACES.sub(" ", b.strip())


if __name__ == "__main__" and sys.argv[1:] == ["--embedder-worker"]:
    raise SystemExit(serve_embedder())
