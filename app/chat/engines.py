"""Loaded local models: one LlamaEngine (and so one inference thread) per model, loaded lazily.

At most `max_loaded` engines stay in memory; the least recently used one is closed first.

Before a model is loaded its file is confirmed to be the one imported (`ModelCatalog.
checked_path`: the stored sha256 is trusted while the file's size and mtime are unchanged, else
the file is hashed again). The first time a model file is used it answers a short probe question
greedily; a degenerate reply (`degenerate_reason`) means the model is refused, and marked in the
catalog so the router stops choosing it. `enclave models verify` probes again (`probe()`).
"""

from __future__ import annotations

import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from models.types import GenerationOptions, Message

if TYPE_CHECKING:
    from pathlib import Path

    from app.chat.servers import InferenceServers
    from models.catalog import Health, ModelCatalog
    from models.engine import ChatEngine
    from models.types import ModelRecord

EngineFactory = Callable[[str], "ChatEngine"]

# The health probe: one short question any working chat model answers in words, asked greedily.
PROBE_MESSAGES = (Message("user", "In one short sentence: what is the capital of France?"),)
PROBE_OPTIONS = GenerationOptions(
    max_tokens=24, temperature=0.0, top_k=1, top_p=1.0, repeat_penalty=1.0, seed=0
)
MIN_LETTERS = 3  # fewer letters than this: empty, or only dots, digits or punctuation
MAX_REPEAT_SHARE = 0.8  # one word, or one short piece of text, making up more than this
_MIN_REPEATS = 4
_UNIT_RE = re.compile(r"(.{1,8}?)\1{3,}", re.S)  # a piece and at least 3 more copies


def degenerate_reason(reply: str) -> str:
    """Why `reply` is degenerate, in words, or "" when it is a usable reply.

    Degenerate: empty; fewer than MIN_LETTERS letters (only dots, punctuation or symbols); one
    word over MAX_REPEAT_SHARE of its words (at least 4 words); or one piece of up to 8
    characters repeated at least 4 times covering over MAX_REPEAT_SHARE of its non-space text.
    """
    if not reply.strip():
        return "the reply was empty"
    if sum(ch.isalpha() for ch in reply) < MIN_LETTERS:
        return "the reply had no words, only digits, punctuation or symbols"
    words = re.findall(r"\w+", reply.lower())
    if len(words) >= _MIN_REPEATS:
        top = Counter(words).most_common(1)[0][1]
        if top / len(words) > MAX_REPEAT_SHARE:
            return "the reply repeated one word over and over"
    compact = re.sub(r"\s+", "", reply)
    longest = max((len(m.group(0)) for m in _UNIT_RE.finditer(compact)), default=0)
    if longest / len(compact) > MAX_REPEAT_SHARE:
        return "the reply repeated the same piece of text over and over"
    return ""


def probe_reply(engine: ChatEngine) -> str:
    """The engine's greedy reply to the probe question (a generation error raises)."""
    from models.errors import ModelError

    pieces: list[str] = []
    for event in engine.generate(PROBE_MESSAGES, PROBE_OPTIONS):
        pieces.append(event.text)
        if event.stats is not None and event.stats.finish_reason == "error":
            raise ModelError(f"The model could not answer a test question: {event.stats.error}")
    return "".join(pieces)


def degenerate_message(model_id: str, reason: str) -> str:
    return (
        f"The model {model_id} gave a degenerate answer to a test question ({reason}), so "
        "Enclave does not use it; questions go to the other models. The file may be damaged "
        "or badly quantized: import a working model for its domains, then run `enclave models "
        "verify`."
    )


class EngineManager:
    def __init__(
        self,
        catalog: ModelCatalog,
        *,
        n_ctx: int,
        n_threads: int | None,
        n_gpu_layers: int,
        max_loaded: int = 2,
        factory: EngineFactory | None = None,
        servers: InferenceServers | None = None,
        fallback_model: str | None = None,
    ) -> None:
        """`servers`: the policy's inference servers (app.chat.servers), models like the local
        ones; when one fails, `fallback_model` (a local model) answers instead."""
        self._catalog = catalog
        self._servers = servers
        self._fallback_model = fallback_model
        self._server_engines: dict[str, ChatEngine] = {}
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._n_gpu_layers = n_gpu_layers
        self._max_loaded = max(1, max_loaded)
        self._factory = factory or self._load
        self._engines: OrderedDict[str, ChatEngine] = OrderedDict()
        self._loading: dict[str, Future[ChatEngine]] = {}  # preload() loads under way
        self._lock = threading.Lock()
        self.notices: list[str] = []  # shown to the user (e.g. a GPU offload that fell back)

    def get(self, model_id: str) -> ChatEngine:
        """The engine for `model_id`, loaded (on its own thread) if needed; blocks until ready.
        An inference server's id gives its ServerEngine (nothing is loaded here). A load that
        preload() started is waited for, not started again; its error is raised here."""
        with self._lock:
            engine = self._engines.get(model_id) or self._server_engines.get(model_id)
            if engine is not None:
                if model_id in self._engines:
                    self._engines.move_to_end(model_id)
                return engine
            pending = self._loading.get(model_id)
        if pending is not None:
            return pending.result()
        if self._is_server(model_id):
            return self._server_engine(model_id)
        return self._load_and_keep(model_id)

    def preload(self, model_id: str) -> None:
        """Start loading the local model `model_id` on a background thread and return at once,
        so its load overlaps other work (retrieval) and a later get() finds it ready. Nothing
        happens for a loaded model, a load under way, or an inference server. An error is kept
        for the get() that needs the model (a preloaded model that is never asked is simply
        loaded, as the next question would have loaded it)."""
        if self._is_server(model_id):
            return
        future: Future[ChatEngine] = Future()
        with self._lock:
            if model_id in self._engines or model_id in self._loading:
                return
            self._loading[model_id] = future

        def load() -> None:
            try:
                future.set_result(self._load_and_keep(model_id))
            except BaseException as exc:  # handed to the get() that waits for it
                future.set_exception(exc)
            finally:
                with self._lock:
                    self._loading.pop(model_id, None)

        threading.Thread(target=load, name=f"preload:{model_id}", daemon=True).start()

    def _load_and_keep(self, model_id: str) -> ChatEngine:
        engine = self._factory(model_id)
        evicted: list[ChatEngine] = []
        with self._lock:
            self._engines[model_id] = engine
            while len(self._engines) > self._max_loaded:
                _, old = self._engines.popitem(last=False)
                evicted.append(old)
        for old in evicted:
            old.close()
        return engine

    def _is_server(self, model_id: str) -> bool:
        """A server's id that no installed local model shadows (a local model wins a clash)."""
        if self._servers is None or model_id not in self._servers.ids():
            return False
        return all(record.id != model_id for record in self._catalog.list())

    def _server_engine(self, model_id: str) -> ChatEngine:
        assert self._servers is not None
        fallback = self._fallback_model

        def local() -> ChatEngine:
            if fallback is None or self._is_server(fallback):
                from models.errors import ModelError

                raise ModelError(
                    f"The team's inference server {model_id} did not answer and no local model "
                    "is set to answer instead."
                )
            return self.get(fallback)

        made: ChatEngine = self._servers.engine(model_id, local)
        with self._lock:
            return self._server_engines.setdefault(model_id, made)

    def take_notices(self) -> list[str]:
        """The notices not yet shown (each is returned once), e.g. a GPU offload that fell back."""
        with self._lock:
            notices, self.notices = self.notices, []
        return notices

    def set_gpu_layers(self, n_gpu_layers: int) -> None:
        """Models loaded from now on use `n_gpu_layers`; loaded ones keep their placement."""
        self._n_gpu_layers = n_gpu_layers

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._engines)

    def unload(self, model_id: str) -> None:
        with self._lock:
            engine = self._engines.pop(model_id, None)
        if engine is not None:
            engine.close()

    def close(self) -> None:
        """Close every engine; a preload under way is waited for, then closed too."""
        with self._lock:
            pending = list(self._loading.values())
        for future in pending:
            future.exception()  # waits; a failed preload left nothing to close
        with self._lock:
            engines = [*self._engines.values(), *self._server_engines.values()]
            self._engines.clear()
            self._server_engines.clear()
        for engine in engines:
            engine.close()

    def _load(self, model_id: str) -> ChatEngine:
        """Load with the configured GPU layers; if offload fails, fall back to the CPU, say so."""
        from models.errors import ModelLoadError

        try:
            return self._load_with(model_id, self._n_gpu_layers)
        except ModelLoadError as exc:
            if self._n_gpu_layers == 0:
                raise
            notice = (
                f"The GPU could not take {model_id} ({exc}); it runs on the CPU instead. "
                "Lower the GPU layers setting or check the graphics driver."
            )
            with self._lock:
                self.notices.append(notice)
            return self._load_with(model_id, 0)

    def probe(self, model_id: str) -> Health:
        """Ask `model_id` the probe question now (`enclave models verify`), whatever an earlier
        verdict said; store the verdict in the catalog and return it. A degenerate model is
        unloaded. Raises ModelError when the file changed or cannot be loaded."""
        record = self._catalog.get(model_id)
        path = self._catalog.checked_path(record)
        engine = self._open_fallback(record, path)
        try:
            reason = degenerate_reason(probe_reply(engine))
        finally:
            engine.close()
        if reason:
            self.unload(model_id)
            return self._catalog.set_health(record, "degenerate", reason)
        return self._catalog.set_health(record, "ok")

    def _load_with(self, model_id: str, n_gpu_layers: int) -> ChatEngine:
        """Confirm the file, refuse a model known to be degenerate, load, probe on first use."""
        from models.errors import DegenerateModelError

        record = self._catalog.get(model_id)
        path = self._catalog.checked_path(record)
        health = self._catalog.health(record)
        if health is not None and not health.ok:
            raise DegenerateModelError(degenerate_message(model_id, health.reason))
        engine = self._open(record, path, n_gpu_layers)
        if health is None:
            self._first_use(record, engine)
        return engine

    def _first_use(self, record: ModelRecord, engine: ChatEngine) -> None:
        """Probe a model file never probed before; close it and raise if it is degenerate."""
        from models.errors import DegenerateModelError

        try:
            reason = degenerate_reason(probe_reply(engine))
        except BaseException:
            engine.close()
            raise
        if reason:
            engine.close()
            self._catalog.set_health(record, "degenerate", reason)
            raise DegenerateModelError(degenerate_message(record.id, reason))
        self._catalog.set_health(record, "ok")

    def _open_fallback(self, record: ModelRecord, path: Path) -> ChatEngine:
        from models.errors import ModelLoadError

        try:
            return self._open(record, path, self._n_gpu_layers)
        except ModelLoadError:
            if self._n_gpu_layers == 0:
                raise
            return self._open(record, path, 0)

    def _open(self, record: ModelRecord, path: Path, n_gpu_layers: int) -> ChatEngine:
        """Load the file with llama.cpp and wait until it is ready."""
        from models.engine import LlamaEngine
        from models.gguf import read_gguf_info

        template = (
            read_gguf_info(path).chat_template if record.chat_format == "gguf-template" else None
        )
        engine = LlamaEngine(
            path,
            chat_format=record.chat_format,
            chat_template=template,
            n_ctx=min(self._n_ctx, record.context_length or self._n_ctx),
            n_threads=self._n_threads,
            n_gpu_layers=n_gpu_layers,
        )
        engine.wait_ready()
        return engine
