"""GPU offload that fails falls back to the CPU with a notice (the loader is faked here; on a
CPU-only build llama.cpp ignores GPU layers, so the failure cannot be provoked for real)."""

from __future__ import annotations

from typing import Any

import pytest

from app.chat.engines import EngineManager
from models.errors import ModelLoadError
from models.fake import ScriptedEngine


class Manager(EngineManager):
    def __init__(self, n_gpu_layers: int) -> None:
        super().__init__(
            catalog=None,
            n_ctx=2048,
            n_threads=1,  # type: ignore[arg-type]
            n_gpu_layers=n_gpu_layers,
        )
        self.tried: list[int] = []

    def _load_with(self, model_id: str, n_gpu_layers: int) -> Any:
        self.tried.append(n_gpu_layers)
        if n_gpu_layers != 0:
            raise ModelLoadError("cudaMalloc failed: out of memory")
        return ScriptedEngine(["ok"])


def test_failed_offload_falls_back_to_cpu_with_a_notice() -> None:
    manager = Manager(n_gpu_layers=99)
    assert manager.get("m") is not None
    assert manager.tried == [99, 0]
    assert "runs on the CPU instead" in manager.notices[0]
    assert "out of memory" in manager.notices[0]


def test_cpu_failure_is_not_hidden() -> None:
    class Broken(Manager):
        def _load_with(self, model_id: str, n_gpu_layers: int) -> Any:
            raise ModelLoadError("invalid magic characters")

    with pytest.raises(ModelLoadError, match="invalid magic"):
        Broken(n_gpu_layers=0).get("m")
