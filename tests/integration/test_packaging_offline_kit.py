"""The offline install kit: resolution of its pins (fast), and a real install with the network
cut (slow: skipped unless ENCLAVE_TEST_OFFLINE_KIT=1; it builds the kit if needed, then runs
packaging/verify_offline_kit.sh, which installs into a fresh virtual environment under
`unshare -rn` with pip pointed at the kit only, and runs the self-test there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "packaging"))

from build_offline_kit import runtime_requirements  # noqa: E402

KIT = REPO / "packaging" / "dist" / "offline-kit"


def test_pins_follow_markers_extras_and_installed_versions() -> None:
    import importlib.metadata as md

    pins = runtime_requirements(
        [f"platformdirs=={md.version('platformdirs')}", "pytest; extra == 'dev'",
         "pydantic", "not-on-this-python; python_version < '3.0'"],
        extras=(),
    )  # fmt: skip
    names = {p.split("==")[0] for p in pins}
    assert "platformdirs" in names and "pydantic" in names
    assert "pydantic-core" in names  # dependencies of dependencies, pinned as installed
    assert "pytest" not in names and "not-on-this-python" not in names
    assert f"pydantic=={md.version('pydantic')}" in pins


def test_pins_refuse_what_is_not_installed_or_differs() -> None:
    with pytest.raises(SystemExit, match="no-such-distribution-xyz"):
        runtime_requirements(["no-such-distribution-xyz==1.0"], ())
    with pytest.raises(SystemExit, match="installed"):
        runtime_requirements(["platformdirs==0.0.1"], ())


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("ENCLAVE_TEST_OFFLINE_KIT") != "1",
    reason="set ENCLAVE_TEST_OFFLINE_KIT=1 (builds and installs the kit: minutes)",
)
@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_offline_kit_installs_and_self_tests_with_no_network() -> None:
    if not (KIT / "install.sh").is_file():
        subprocess.run([sys.executable, str(REPO / "packaging" / "build_offline_kit.py")],
                       cwd=REPO, check=True, timeout=3600)  # fmt: skip
    proc = subprocess.run(
        ["bash", str(REPO / "packaging" / "verify_offline_kit.sh"), str(KIT)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Self-test passed." in proc.stdout
    assert "OFFLINE KIT VERIFIED" in proc.stdout
