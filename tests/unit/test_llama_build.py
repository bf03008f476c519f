"""The llama.cpp build the tests run is the portable one that ships (packaging/llama_wheel.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import llama_wheel


@pytest.mark.parametrize(
    ("args", "name", "expected"),
    [
        ("-DGGML_NATIVE=OFF -DGGML_AVX2=ON", "GGML_NATIVE", False),
        ("-DGGML_NATIVE=OFF -DGGML_AVX2=ON", "GGML_AVX2", True),
        ("-DGGML_CUDA=on", "GGML_CUDA", True),
        ("-Dggml_cuda=1", "GGML_CUDA", True),
        ("-DGGML_NATIVE=OFF", "GGML_CUDA", None),
        ("", "GGML_NATIVE", None),
    ],
)
def test_flag_on_reads_cmake_switches(args: str, name: str, expected: bool | None) -> None:
    assert llama_wheel._flag_on(args, name) is expected


def test_installed_build_is_the_portable_release_build() -> None:
    """`make` rebuilds llama-cpp-python when pip reused a -march=native wheel from its cache."""
    assert llama_wheel.installed_mismatch(llama_wheel.PORTABLE_CMAKE_ARGS) is None


def test_a_cuda_request_is_not_met_by_a_cpu_build() -> None:
    import llama_cpp

    if llama_cpp.llama_supports_gpu_offload():
        pytest.skip("this build offloads to a GPU")
    why = llama_wheel.installed_mismatch(llama_wheel.PORTABLE_CMAKE_ARGS + " -DGGML_CUDA=on")
    assert why is not None and "CUDA" in why
