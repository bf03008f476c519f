"""Test-wide set-up: offline by construction, and never the real user folders.

- Telemetry switches and the egress guard are installed before any test imports a heavy
  library, so every test also proves that nothing tries to leave loopback.
- Every test gets its own ENCLAVE_HOME under tmp_path.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.bootstrap import secure_process

secure_process()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EVAL = SHARED / "eval"


@pytest.fixture(autouse=True)
def enclave_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh ENCLAVE_HOME per test; the egress guard's recorder (each Enclave points it at its
    own ledger) is put back afterwards so no test writes into another test's ledger."""
    from app.privacy.egress import GUARD

    home = tmp_path / "enclave-home"
    monkeypatch.setenv("ENCLAVE_HOME", str(home))
    monkeypatch.delenv("ENCLAVE_POLICY", raising=False)
    recorder = GUARD.recorder
    yield home
    GUARD.recorder = recorder
    # A test that failed with a connection open (say, a shared workspace's Chroma server):
    # close it here, or every later test sees "Sending now".
    if leaked := GUARD.close_allowances():
        warnings.warn(f"a test left {leaked} egress allowance(s) open", stacklevel=1)


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not EVAL.is_dir():
        pytest.skip(f"the shared evaluation data is not at {EVAL}")
    return EVAL


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    from models.embedded import embedded_chat_model_path

    return embedded_chat_model_path()


@pytest.fixture(scope="session")
def real_embedder() -> Iterator[object]:
    """The real all-MiniLM-L6-v2 embedder, loaded once per session (about 5 s)."""
    from rag.embedder import SentenceTransformerEmbedder, default_embedder_path

    yield SentenceTransformerEmbedder(default_embedder_path())
