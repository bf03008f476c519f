"""`enclave doctor` tells IT what the installed llama.cpp can do: back-end, devices with free
memory, and the recommended GPU layers per installed model (real llama.cpp, real GGUF)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli_helpers import enclave

pytestmark = pytest.mark.slow


def test_doctor_reports_backend_devices_memory_and_layers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = json.loads(enclave(home, "doctor", "--json").stdout)
    hw = data["hardware"]
    assert hw["backend"] in {"cpu", "cuda", "metal", "vulkan", "rocm"}
    assert hw["devices"] and all(d["memory_total"] >= d["memory_free"] >= 0 for d in hw["devices"])
    layers = data["recommended_gpu_layers"]["smollm2-135m-instruct"]
    if not hw["gpu_offload_supported"]:
        assert layers == 0  # a CPU build never offloads
    text = enclave(home, "doctor").stdout
    first = hw["devices"][0]
    assert f"device {first['name']}: {first['description']}" in text
    assert "recommended GPU layers for smollm2-135m-instruct:" in text
    assert "egress guard on" in text
