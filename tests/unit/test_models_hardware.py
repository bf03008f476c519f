"""The GPU-layer heuristic and back-end naming, on described (not detected) hardware."""

from __future__ import annotations

import pytest

from models.hardware import Device, HardwareInfo, backend_of, recommended_gpu_layers

GB = 1024**3
CPU = Device("CPU", "x86", "cpu", 0, 0)


def hw(backend: str, *devices: Device, offload: bool = True, ram: int = 32 * GB) -> HardwareInfo:
    return HardwareInfo(backend, offload, 4, 8, "0.3.36", "CPU : AVX2 = 1", (CPU, *devices), ram)


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("CUDA0", "gpu", "cuda"),
        ("Metal", "gpu", "metal"),
        ("MTL0", "igpu", "metal"),
        ("Vulkan0", "gpu", "vulkan"),
        ("ROCm0", "gpu", "rocm"),
        ("BLAS", "accel", "cpu"),
    ],
)
def test_backend_names(name: str, kind: str, expected: str) -> None:
    assert backend_of([CPU, Device(name, "", kind, 0, 0)]) == expected


def test_no_offload_means_zero_layers() -> None:
    assert recommended_gpu_layers(hw("cpu", offload=False), 4 * GB, 32) == 0
    assert recommended_gpu_layers(hw("cpu"), 4 * GB, 32) == 0


def test_cuda_all_layers_when_it_fits_else_a_share() -> None:
    gpu = Device("CUDA0", "RTX", "gpu", 8 * GB, 8 * GB)
    assert recommended_gpu_layers(hw("cuda", gpu), 4 * GB, 32) == -1
    share = recommended_gpu_layers(hw("cuda", gpu), 16 * GB, 32)
    assert 0 < share < 32 and share == int(32 * 8 / (16 * 1.25))


def test_metal_uses_unified_memory() -> None:
    metal = Device("MTL0", "Apple M2", "gpu", 0, 0)
    assert recommended_gpu_layers(hw("metal", metal, ram=16 * GB), 4 * GB, 32) == -1
    assert 0 < recommended_gpu_layers(hw("metal", metal, ram=8 * GB), 8 * GB, 32) < 32
