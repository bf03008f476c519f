"""EngineManager.preload: a model's load started ahead (while retrieval runs) is the one get()
returns, is never started twice, and hands its error to the get() that needs the model."""

from __future__ import annotations

import threading

import pytest

from app.chat.engines import EngineManager
from models.errors import ModelLoadError


class Loaded:
    def __init__(self, model_id: str) -> None:
        self.model_id = model_id
        self.closed = False

    def close(self) -> None:
        self.closed = True


def manager(factory: object) -> EngineManager:
    return EngineManager(
        None,  # type: ignore[arg-type]
        n_ctx=2048,
        n_threads=1,
        n_gpu_layers=0,
        factory=factory,  # type: ignore[arg-type]
    )


def test_get_waits_for_the_preload_instead_of_loading_again() -> None:
    release = threading.Event()
    made: list[str] = []

    def factory(model_id: str) -> Loaded:
        made.append(model_id)
        release.wait(5)  # a slow load: get() arrives while it runs
        return Loaded(model_id)

    engines = manager(factory)
    engines.preload("m")
    engines.preload("m")  # a second preload of a load under way does nothing
    threading.Timer(0.2, release.set).start()
    engine = engines.get("m")
    assert isinstance(engine, Loaded) and engine.model_id == "m"
    assert made == ["m"]
    assert engines.get("m") is engine and engines.loaded() == ["m"]
    engines.preload("m")  # already loaded: nothing to do
    assert made == ["m"]


def test_a_failed_preload_raises_in_the_get_that_needs_the_model() -> None:
    def factory(model_id: str) -> Loaded:
        raise ModelLoadError("llama.cpp could not read the file")

    engines = manager(factory)
    engines.preload("broken")
    with pytest.raises(ModelLoadError, match="could not read"):
        engines.get("broken")
    assert engines.loaded() == []


def test_close_waits_for_a_preload_and_closes_what_it_loaded() -> None:
    release = threading.Event()
    made: list[Loaded] = []

    def factory(model_id: str) -> Loaded:
        release.wait(5)
        made.append(Loaded(model_id))
        return made[-1]

    engines = manager(factory)
    engines.preload("m")
    threading.Timer(0.2, release.set).start()
    engines.close()
    assert len(made) == 1 and made[0].closed
    assert engines.loaded() == []
