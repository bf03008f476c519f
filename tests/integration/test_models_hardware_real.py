"""Hardware detection against the installed llama.cpp build."""

from __future__ import annotations

import json

import pytest

from models.hardware import detect_hardware

pytestmark = pytest.mark.slow


def test_detect_hardware_reports_the_real_build() -> None:
    import llama_cpp

    hw = detect_hardware()
    assert hw.gpu_offload_supported == bool(llama_cpp.llama_supports_gpu_offload())
    assert 1 <= hw.physical_cores <= hw.logical_cores
    assert hw.llama_cpp_version == llama_cpp.__version__
    assert "CPU" in hw.system_info
    assert any(d.type == "cpu" for d in hw.devices)
    if not hw.gpu_offload_supported:
        assert hw.backend == "cpu" and hw.display_backend == "CPU"
    data = json.loads(json.dumps(hw.to_dict()))
    assert data["backend"] == hw.backend and data["devices"][0]["name"]
