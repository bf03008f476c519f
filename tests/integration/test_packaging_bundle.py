"""The built one-folder app (`make bundle`): its --self-test passes offline, under strace.

Skipped until a bundle exists (packaging/dist/enclave, or the folder ENCLAVE_TEST_BUNDLE names):
building one takes minutes, so `make bundle-smoke` (and .ci/run) build it and run the same check.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "packaging"))

from smoke_bundle import executable, run_smoke  # noqa: E402

from app.privacy.strace import non_loopback_connects  # noqa: E402

BUNDLE = Path(os.environ.get("ENCLAVE_TEST_BUNDLE", REPO / "packaging" / "dist" / "enclave"))


def test_strace_reader_flags_only_addresses_off_this_machine() -> None:
    trace = (
        '9 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("20.42.65.92")}'
        ", 16) = -1 ENETUNREACH\n"
        '9 connect(4, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}'
        ", 16) = 0\n"
        '9 connect(5, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 110) = 0\n'
        "9 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0\n'
    )
    (bad,) = non_loopback_connects(trace)
    assert "20.42.65.92" in bad


@pytest.mark.slow
@pytest.mark.skipif(not executable(BUNDLE).is_file(), reason=f"no bundle at {BUNDLE} (make bundle)")
def test_bundle_self_test_passes_offline_with_no_outside_connection() -> None:
    result = run_smoke(BUNDLE, use_strace=shutil.which("strace") is not None)
    assert result["ok"], result["problems"]
    report = result["report"]
    assert report["frozen"] is True and report["ok"] is True
    assert report["embedder_backend"] == "onnxruntime"  # the spec carries the ONNX files
    internal = BUNDLE / "_internal"
    assert not (internal / "torch").exists(), "the bundle's search model needs no PyTorch"
    assert (internal / "share" / "enclave" / "embedder" / "all-MiniLM-L6-v2.onnx").is_file()
    assert result["non_loopback_connects"] == 0
    if result["strace"]:
        assert result["connect_calls"] is not None
