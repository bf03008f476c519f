"""Loaded local models: one LlamaEngine (and so one inference thread) per model, loaded lazily.

At most `max_loaded` engines stay in memory; the least recently used one is closed first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.catalog import ModelCatalog
    from models.engine import ChatEngine

EngineFactory = Callable[[str], "ChatEngine"]


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
    ) -> None:
        self._catalog = catalog
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._n_gpu_layers = n_gpu_layers
        self._max_loaded = max(1, max_loaded)
        self._factory = factory or self._load
        self._engines: OrderedDict[str, ChatEngine] = OrderedDict()
        self._lock = threading.Lock()
        self.notices: list[str] = []  # shown to the user (e.g. a GPU offload that fell back)

    def get(self, model_id: str) -> ChatEngine:
        """The engine for `model_id`, loaded (on its own thread) if needed; blocks until ready."""
        with self._lock:
            engine = self._engines.get(model_id)
            if engine is not None:
                self._engines.move_to_end(model_id)
                return engine
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
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
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

    def _load_with(self, model_id: str, n_gpu_layers: int) -> ChatEngine:
        from models.engine import LlamaEngine
        from models.gguf import read_gguf_info

        record = self._catalog.get(model_id)
        path = self._catalog.path_of(record)
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
