"""What the desktop window needs from the app that the command line does not.

Plain Python, no Qt: the `ui` layer imports this module (and never `models` or `rag`). Every
function runs on the caller's thread; the ones marked "slow" must be called from a worker thread
(they load models, hash files or open indexes).

The types the window shows are re-exported here, so `ui` names them without reaching past `app`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.chat.answer import EvidenceQuote
from app.chat.service import AskOptions, ChatAnswer, ChatError, Route, SourcesFound, Token
from app.chat.types import EvidenceFound
from app.container import Enclave
from app.desktop.worker import ProcessEmbedder, ProcessIndex, WorkerClient, WorkerProcessError
from app.frontier.gateway import FrontierRefused
from app.frontier.request import FrontierRequest
from app.frontier.route import FrontierRoute, PreparedQuestion
from app.library.history import Conversation, ConversationNotFound, StoredMessage, transcript
from app.library.ingest import FileOutcome, IngestProgress, IngestSummary, ingest_paths
from app.library.names import display_name
from app.library.review import (
    ChecklistStore,
    ReviewRow,
    parse_questions,
    read_questions,
    run_checklist,
    write_table,
)
from app.library.sync import FileRemoved, FolderSync, SyncEvent, watch
from app.library.workspaces import Workspace, WorkspaceError
from app.privacy.egress import GUARD
from models.types import CancelToken, ModelRecord
from rag.limits import ParseLimits
from rag.types import Citation, DocumentRecord, Hit

if TYPE_CHECKING:
    from app.library.history import HistoryStore
    from app.paths import Paths
    from app.settings import Settings
    from rag.embedder import Embedder
    from rag.index_types import DocumentIndex

__all__ = [
    "OFFLINE_TEXT",
    "AskOptions",
    "CancelToken",
    "ChatAnswer",
    "ChatError",
    "ChecklistStore",
    "Citation",
    "Conversation",
    "ConversationNotFound",
    "DocumentRecord",
    "EvidenceFound",
    "EvidenceQuote",
    "FileOutcome",
    "FileRemoved",
    "FrontierRefused",
    "FrontierRequest",
    "FrontierRoute",
    "HardwareSummary",
    "Hit",
    "IngestProgress",
    "IngestSummary",
    "ModelRecord",
    "ParseLimits",
    "Passage",
    "PreparedQuestion",
    "PrivacyStatus",
    "ReviewPlan",
    "ReviewRow",
    "Route",
    "SourcesFound",
    "StoredMessage",
    "Token",
    "WarmUp",
    "WorkerIndexes",
    "WorkerProcessError",
    "Workspace",
    "WorkspaceError",
    "WorkspaceIndexProvider",
    "checklists",
    "citation_line",
    "citation_passage",
    "display_name",
    "hardware_summary",
    "import_model",
    "ingest_paths",
    "installed_models",
    "open_desktop",
    "parse_questions",
    "preload_native_libraries",
    "privacy_status",
    "read_questions",
    "regenerate_question",
    "run_review",
    "set_gpu_layers",
    "supported_suffixes",
    "sync_folder",
    "text_file",
    "transcript",
    "warm_up",
    "write_table",
]

OFFLINE_TEXT = "Offline: nothing has left this computer"
WorkspaceIndexProvider = Callable[[Workspace], "DocumentIndex"]


# -- privacy ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrivacyStatus:
    """What the status bar's privacy indicator says, read from the guard and the audit ledger."""

    text: str
    left_computer: bool
    guard_on: bool
    detail: str  # a longer explanation for a tooltip


def privacy_status(enclave: Enclave) -> PrivacyStatus:
    """Read the egress guard and the audit ledger. Cheap: call it from a timer."""
    refused = GUARD.refused_count
    open_now = GUARD.open_allowances
    sent = 0
    destination = ""
    try:
        summary = enclave.ledger.summary()
        sent = summary.allowed_outbound + summary.frontier_calls
        refused = max(refused, summary.refused)
        if summary.last_outbound is not None:
            destination = str(summary.last_outbound.get("destination", ""))
        ledger_note = f"The audit ledger holds {summary.entries} entries."
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


# -- the search model and the indexes in their own process ------------------------------------
class WorkerIndexes:
    """The window's IndexHost (app.library.indexes): the document search model and every
    workspace index live in one worker process (app.desktop.worker), so neither torch nor
    chromadb ever holds the window's GIL, and chroma (not process-safe) is opened only there.
    The worker starts on first use (slow: it loads the model)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._worker: WorkerClient | None = None
        self._embedder: Embedder | None = None

    def worker(self) -> WorkerClient:
        """Slow the first time: start the worker process and load the search model in it."""
        with self._lock:
            if self._worker is None:
                self._worker = WorkerClient()
            return self._worker

    def embedder(self) -> Embedder:
        worker = self.worker()
        with self._lock:
            if self._embedder is None:
                self._embedder = ProcessEmbedder(worker)
            return self._embedder

    def index(self, workspace: Workspace) -> DocumentIndex:
        return ProcessIndex(self.worker(), workspace.id)

    @property
    def started(self) -> bool:
        """Whether the worker process was started (it starts on first use)."""
        return self._worker is not None

    @property
    def running(self) -> bool:
        """Whether the worker process runs now (False once the window closed it)."""
        return self._worker is not None and self._worker.running

    def release(self, workspace_id: str) -> None:
        if self._worker is not None:  # the worker closes the index before its folder goes
            self._worker.call("close_index", workspace_id)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()


def open_desktop(paths: Paths | None = None, settings: Settings | None = None) -> Enclave:
    """The window's Enclave: the same services, with the search model and the indexes served
    by the worker process (`WorkerIndexes`)."""
    return Enclave(paths, settings, indexes=WorkerIndexes())


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


@dataclass(frozen=True)
class ServerRecord:
    """An inference server the administrator's policy approves (read-only in the window)."""

    id: str
    label: str
    destination: str  # host:port
    model: str
    domains: tuple[str, ...]


def approved_servers(enclave: Enclave) -> list[ServerRecord]:
    """The policy's on-premises inference servers (none when there is no policy)."""
    return [
        ServerRecord(s.id, s.label or s.id, s.destination, s.model, tuple(s.domains))
        for s in enclave.policy.inference_servers
    ]


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
    """Save the GPU-layers setting; models loaded from now on use it."""
    n = max(-1, int(n_gpu_layers))
    enclave.settings.n_gpu_layers = n
    enclave.settings.save(enclave.paths.settings_file)
    enclave.engines.set_gpu_layers(n)
    which = "every layer" if n < 0 else f"{n} layer(s)"
    return (
        f"Saved: {which} on the GPU. It applies to models loaded from now on; a model already "
        "loaded keeps its placement until Enclave is restarted."
    )


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


TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")


def text_file(path: str) -> bool:
    """Whether a document is a plain-text file (one page: a place in it is a line, not a page)."""
    return Path(path).suffix.lower() in TEXT_SUFFIXES


def citation_line(
    index_for: WorkspaceIndexProvider, workspace: Workspace, citation: Citation
) -> int | None:
    """Slow the first time (opens the index): the 1-based line a citation's quote starts on,
    for a text file; None for other documents or when the document is no longer indexed."""
    if not text_file(citation.path):
        return None
    index = index_for(workspace)
    try:
        chunk = index.chunk(citation.chunk_id)
        return index.line_of(chunk.document_id, citation.start)
    except KeyError:
        return None


# -- conversations ----------------------------------------------------------------------------
def regenerate_question(history: HistoryStore, conversation_id: str) -> str:
    """Regenerate: the question of the conversation's last turn, to be asked again. Its answer
    is kept: the new answer is stored as the turn's next version (and chosen), and until the
    question is stored again the turn is left out of `history.messages`, so the model does not
    see the answer it replaces. Call `history.cancel_new_version` if it is not asked after all.
    """
    question = history.begin_new_version(conversation_id)
    if question is None:
        raise ChatError("There is no question to ask again in this conversation.")
    return question


# -- the review checklist ---------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewPlan:
    """What a review will ask, sent before its first answer: `total` answers, and the documents
    asked about one by one (empty: each question is asked of the whole workspace)."""

    total: int
    documents: tuple[str, ...]


ASKABLE = ("indexed", "indexed_with_warnings")


def checklists(workspace: Workspace) -> ChecklistStore:
    """The workspace's saved checklists (a small JSON file beside its workspace.json)."""
    return ChecklistStore(workspace.folder)


def run_review(
    enclave: Enclave,
    workspace: Workspace,
    questions: Sequence[str],
    *,
    per_document: bool,
    cancel: CancelToken,
    finish: CancelToken,
) -> Iterator[ReviewPlan | ReviewRow]:
    """Slow (a worker thread): ask every question (of every indexed document, with
    `per_document`) through the chat service, on one model load; yields the ReviewPlan, then
    one ReviewRow per answer, in order.

    `finish` stops after the answer being written (the window's Cancel: the rows done stay);
    `cancel` stops the answer under way too (closing the window), and that cut answer is not
    yielded. Each answer's conversation is removed from history once its row is made: the
    review table, not the conversation list, is where a checklist's answers live.
    """
    index = enclave.index(workspace)
    names: tuple[str, ...] = ()
    if per_document:
        names = tuple(d.name for d in index.documents() if d.status in ASKABLE)
        if not names:
            raise WorkspaceError("This workspace has no indexed document to ask about.")
    yield ReviewPlan(len(questions) * max(1, len(names)), names)
    rows = run_checklist(
        enclave.chat, index, workspace, questions,
        per_document=per_document, documents=names, cancel=cancel,
    )  # fmt: skip
    try:
        for row in rows:
            enclave.history.delete_conversation(row.answer.conversation_id)
            if cancel.cancelled or row.answer.cancelled:
                return
            yield row
            if finish.cancelled:
                return
    finally:
        if isinstance(rows, Generator):
            rows.close()


# -- keeping a folder in sync ----------------------------------------------------------------
def sync_folder(
    index: DocumentIndex,
    folder: Path,
    *,
    limits: ParseLimits,
    cancel: CancelToken,
    interval_s: float = 2.0,
) -> Iterator[SyncEvent]:
    """Slow (a worker thread, for as long as it runs): keep the workspace of `index` in sync with
    `folder` until `cancel` is set: first everything in it (committed, unchanged files are
    skipped), then every `interval_s` seconds the files added, changed, deleted or renamed.
    Yields IngestProgress, FileOutcome, IngestSummary (the first round) and FileRemoved."""
    return watch(FolderSync(index, [folder], limits=limits), interval_s=interval_s, cancel=cancel)
