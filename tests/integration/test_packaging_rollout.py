"""IT roll-out through the command line: `enclave models import FOLDER` with a manifest.json,
with the real SmolLM2 GGUF (copied, sha256-checked and test-loaded by llama.cpp)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.integration.cli_helpers import enclave

pytestmark = pytest.mark.slow


def _folder(tmp_path: Path, gguf: Path, sha256: str | None) -> Path:
    """A roll-out folder with one model: the SmolLM2 GGUF with padding after its tensor data,
    so it is a distinct file (another sha256) that llama.cpp still loads."""
    folder = tmp_path / "approved-models"
    folder.mkdir()
    target = folder / "clinical-small.gguf"
    shutil.copyfile(gguf, target)
    with target.open("ab") as fh:
        fh.write(b"\0" * 64)
    sha256 = sha256 or hashlib.sha256(target.read_bytes()).hexdigest()
    manifest = {"models": [{"file": "clinical-small.gguf", "sha256": sha256,
                            "domains": ["clinical"], "licence": "Apache-2.0",
                            "id": "clinical-small"}]}  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_manifest_models_are_installed_as_the_organisations(
    tmp_path: Path, smollm2_path: Path
) -> None:
    home = tmp_path / "home"
    folder = _folder(tmp_path, smollm2_path, None)
    digest = hashlib.sha256((folder / "clinical-small.gguf").read_bytes()).hexdigest()
    proc = enclave(home, "models", "import", str(folder))
    assert "Imported clinical-small" in proc.stdout
    listed = [json.loads(x) for x in enclave(home, "models", "list", "--json").stdout.splitlines()]
    rec = next(r for r in listed if r["id"] == "clinical-small")
    assert rec["source"] == "organisation" and rec["domains"] == ["clinical"]
    assert rec["licence"] == "Apache-2.0" and rec["sha256"] == digest


def test_a_mismatch_is_refused_named_and_nothing_is_installed(
    tmp_path: Path, smollm2_path: Path
) -> None:
    home = tmp_path / "home"
    proc = enclave(home, "models", "import", str(_folder(tmp_path, smollm2_path, "0" * 64)),
                   check=False)  # fmt: skip
    assert proc.returncode == 1
    assert "clinical-small.gguf" in proc.stderr and "sha256" in proc.stderr.lower()
    listed = enclave(home, "models", "list", "--json").stdout
    assert "clinical-small" not in listed
