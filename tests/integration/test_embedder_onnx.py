"""The search model on ONNX Runtime (issue 13): the same vectors as PyTorch on real text, the
ONNX file's checksum, the torch fallback, re-embedding an older workspace from its manifest on a
real chromadb folder, and `enclave search` in a child process without torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.embedder import EmbedderUnavailableError, HashEmbedder, default_embedder_path
from rag.index import WorkspaceIndex
from rag.manifest import EmbedderMismatchError
from rag.onnx_embedder import OnnxEmbedder, installed_onnx_path, record_path, verify_onnx_file
from rag.reembed import recorded_embedder, reembed_workspace
from tests.integration.cli_helpers import REPO, enclave
from tests.integration.index_helpers import write_corpus

pytestmark = pytest.mark.slow
MIN_COSINE = 0.9999
CONTRACT = "LIMEENERGYCO_09_09_1999-EX-10-DISTRIBUTOR AGREEMENT.txt"


@pytest.fixture(scope="session")
def onnx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The install step's ONNX file; made by that same step into a temp folder if missing."""
    installed = installed_onnx_path()
    try:
        verify_onnx_file(installed, default_embedder_path())
        return installed
    except EmbedderUnavailableError:
        out = tmp_path_factory.mktemp("onnx") / installed.name
        subprocess.run(
            [sys.executable, "packaging/export_embedder_onnx.py", "--out", str(out)],
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=600,
        )
        return out


@pytest.fixture(scope="session")
def onnx_embedder(onnx_file: Path) -> Iterator[OnnxEmbedder]:
    yield OnnxEmbedder(default_embedder_path(), onnx_file)


def _contract_chunks(eval_dir: Path, limit: int) -> list[str]:
    from rag.chunking import chunk_document
    from rag.extract import extract

    parsed = extract(eval_dir / "cuad" / "contracts" / CONTRACT).parsed
    assert parsed is not None
    return [c.text for c in chunk_document("x", parsed)][:limit]


def _min_cosine(a: list[list[float]], b: list[list[float]]) -> float:
    import numpy as np

    va, vb = np.asarray(a), np.asarray(b)
    return float((va * vb).sum(axis=1).min())


def test_onnx_gives_the_pytorch_vectors_on_real_text(
    eval_dir: Path, real_embedder: Any, onnx_embedder: OnnxEmbedder
) -> None:
    texts = [
        *_contract_chunks(eval_dir, 48),
        "Metoprolol tartrate 25 mg twice daily; apixaban 5 mg twice daily.",
        "",
        "Ünïcødé — “quotes” and accents, été.",
    ]
    torch_vectors = real_embedder.embed(texts)
    onnx_vectors = onnx_embedder.embed(texts)
    assert len(onnx_vectors) == len(texts)
    assert _min_cosine(torch_vectors, onnx_vectors) >= MIN_COSINE
    # one at a time (no padding) equals in a batch (padded to the longest)
    alone = [onnx_embedder.embed_query(t) for t in texts[:3]]
    assert _min_cosine(alone, onnx_vectors[:3]) >= MIN_COSINE
    # the same weights: the same identity, so existing workspaces stay valid
    assert onnx_embedder.name == real_embedder.name
    assert onnx_embedder.dimension == real_embedder.dimension == 384
    assert onnx_embedder.backend == "onnxruntime"


def test_a_damaged_onnx_file_is_refused_in_one_sentence(tmp_path: Path, onnx_file: Path) -> None:
    damaged = tmp_path / onnx_file.name
    shutil.copyfile(onnx_file, damaged)
    shutil.copyfile(record_path(onnx_file), record_path(damaged))
    verify_onnx_file(damaged, default_embedder_path())  # an intact copy passes
    with open(damaged, "r+b") as fh:
        fh.seek(damaged.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EmbedderUnavailableError) as caught:
        OnnxEmbedder(default_embedder_path(), damaged)
    message = str(caught.value)
    assert "damaged" in message and "sha256" in message
    assert "\n" not in message and message.count(". ") == 0

    # the command line says the same sentence, and no traceback
    doc = write_corpus(tmp_path / "docs", ["court-order.txt"])[0]
    proc = subprocess.run(
        [sys.executable, "-m", "app", "ingest", str(doc), "--workspace", "w", "--create"],
        env=dict(
            os.environ, ENCLAVE_HOME=str(tmp_path / "home"), ENCLAVE_EMBEDDER_ONNX=str(damaged)
        ),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "is damaged" in proc.stderr, proc.stderr


def test_without_the_onnx_file_the_pytorch_model_is_used(tmp_path: Path) -> None:
    from rag.embedder import SentenceTransformerEmbedder
    from rag.search_model import load_embedder

    with pytest.raises(EmbedderUnavailableError, match="not installed"):
        load_embedder(default_embedder_path(), tmp_path / "absent.onnx", backend="onnx")
    fallback = load_embedder(default_embedder_path(), tmp_path / "absent.onnx")
    assert isinstance(fallback, SentenceTransformerEmbedder)
    assert fallback.backend == "torch"


def test_an_older_workspace_is_re_embedded_from_its_manifest(
    tmp_path: Path, onnx_embedder: OnnxEmbedder
) -> None:
    """A workspace indexed with another model (a real chromadb folder on disk) is re-embedded
    with progress; an interrupted re-embedding completes on the next open; nothing is lost."""
    root = tmp_path / "ws"
    docs = write_corpus(tmp_path / "docs", ["lease-agreement.txt", "cardiology-note.txt"])
    old = HashEmbedder(384)
    with WorkspaceIndex(root, old) as idx:
        for path in docs:
            assert idx.ingest_file(path).outcome == "indexed"
        live = idx.manifest.live_chunk_count()
        assert idx.store.count() == live > 0
    with pytest.raises(EmbedderMismatchError):
        WorkspaceIndex(root, onnx_embedder)

    seen: list[tuple[int, int]] = []

    def stop_after_first_step(done: int, total: int) -> None:
        seen.append((done, total))
        if done > 0:
            raise KeyboardInterrupt  # killed mid-way

    with pytest.raises(KeyboardInterrupt):
        reembed_workspace(root, onnx_embedder, stop_after_first_step)
    assert recorded_embedder(root) == (onnx_embedder.name, 384)
    assert seen[0] == (0, live)

    seen.clear()
    report = reembed_workspace(root, onnx_embedder, lambda d, t: seen.append((d, t)))
    assert report is None  # already switched: opening it finishes the job
    with WorkspaceIndex(root, onnx_embedder) as idx:
        assert idx.store.count() == idx.manifest.live_chunk_count() == live
        hit = idx.search("What is the monthly rent of the bakery?", k=1, mode="dense")[0]
        assert hit.document_name == "lease-agreement.txt"
        chunk = idx.manifest.document_chunks(hit.chunk.document_id)[0]
        stored = idx.store.collection.get(ids=[chunk.id], include=["embeddings"])
        assert _min_cosine([list(stored["embeddings"][0])], onnx_embedder.embed([chunk.text])) > (
            MIN_COSINE
        )

    # and back to the first model, in one go, with progress up to every chunk
    seen.clear()
    report = reembed_workspace(root, old, lambda d, t: seen.append((d, t)))
    assert report is not None and report.chunks == live
    assert report.old_name == onnx_embedder.name and report.new_name == old.name
    assert seen[0] == (0, live) and seen[-1] == (live, live)
    with WorkspaceIndex(root, old) as idx:
        assert idx.store.count() == live
        assert [d.name for d in idx.manifest.documents()] == sorted(
            ["cardiology-note.txt", "lease-agreement.txt"]
        )
    assert not [p for p in root.iterdir() if p.name.startswith("chroma.reembed")]


def test_the_cli_re_embeds_an_older_workspace_with_progress(
    tmp_path: Path, enclave_home: Path, onnx_file: Path
) -> None:
    from app.library.workspaces import WorkspaceRegistry
    from app.paths import Paths

    docs = write_corpus(tmp_path / "docs", ["court-order.txt", "supply-contract.txt"])
    registry = WorkspaceRegistry(Paths.from_env().ensure().workspaces_dir)
    ws = registry.create("matter")
    with WorkspaceIndex(ws.index_folder, HashEmbedder(384)) as idx:
        for path in docs:
            idx.ingest_file(path)
    registry.close()
    env_onnx = ["env", f"ENCLAVE_EMBEDDER_ONNX={onnx_file}"]
    proc = enclave(
        enclave_home,
        "search",
        "motion to dismiss",
        "--workspace",
        "matter",
        "--json",
        prefix=env_onnx,
    )
    assert "Re-embedding workspace 'matter'" in proc.stderr
    assert "(100%)" in proc.stderr
    assert "court-order.txt" in proc.stdout, proc.stdout
    # the second time there is nothing to re-embed
    again = enclave(enclave_home, "search", "audit", "--workspace", "matter", prefix=env_onnx)
    assert "Re-embedding" not in again.stderr
    assert "supply-contract.txt" in again.stdout


SEARCH_WITHOUT_TORCH = """
import json, sys
from app.cli import main
rc = main(sys.argv[1:])
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
print("MODULES " + json.dumps({"rc": rc, "heavy": heavy, "ort": "onnxruntime" in sys.modules}))
"""


def test_enclave_search_in_a_child_process_imports_no_torch(
    tmp_path: Path, enclave_home: Path, eval_dir: Path, onnx_file: Path
) -> None:
    contract = eval_dir / "cuad" / "contracts" / CONTRACT
    env_onnx = ["env", f"ENCLAVE_EMBEDDER_ONNX={onnx_file}"]
    enclave(enclave_home, "ingest", str(contract), "--workspace", "w", "--create", prefix=env_onnx)
    proc = subprocess.run(
        [sys.executable, "-c", SEARCH_WITHOUT_TORCH, "search", "governing law", "-w", "w"],
        env=dict(os.environ, ENCLAVE_HOME=str(enclave_home), ENCLAVE_EMBEDDER_ONNX=str(onnx_file)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    facts = json.loads(line.removeprefix("MODULES "))
    assert facts == {"rc": 0, "heavy": [], "ort": True}, proc.stderr
    assert "Illinois" in proc.stdout or CONTRACT in proc.stdout


@pytest.fixture(scope="session")
def int8_file(tmp_path_factory: pytest.TempPathFactory, onnx_file: Path) -> Path:
    """The install step's int8 file, made from the fp32 file (by export_int8) if missing."""
    from rag.onnx_embedder import installed_int8_path

    installed = installed_int8_path()
    if onnx_file == installed_onnx_path() and installed.is_file():
        try:
            verify_onnx_file(installed, default_embedder_path())
            return installed
        except EmbedderUnavailableError:
            pass
    sys.path.insert(0, str(REPO / "packaging"))
    from export_embedder_onnx import export_int8

    out = tmp_path_factory.mktemp("int8") / installed.name
    export_int8(default_embedder_path(), onnx_file, out)
    return out


def test_the_int8_file_is_verified_by_its_sha256_and_named_apart(
    tmp_path: Path, int8_file: Path, onnx_embedder: OnnxEmbedder, eval_dir: Path
) -> None:
    record = json.loads(record_path(int8_file).read_text(encoding="utf-8"))
    assert record["variant"] == "int8"
    assert (
        record["source_sha256"]
        == json.loads(record_path(onnx_embedder.onnx_path).read_text())["sha256"]
    )
    int8 = OnnxEmbedder(default_embedder_path(), int8_file)
    assert int8.variant == "int8" and int8.dimension == 384
    # its vectors moved a little: another name, so a workspace never mixes the two
    assert int8.name == onnx_embedder.name + "+onnx-int8"
    texts = _contract_chunks(eval_dir, 12)
    assert 0.95 < _min_cosine(int8.embed(texts), onnx_embedder.embed(texts)) < 0.99999
    damaged = tmp_path / int8_file.name
    shutil.copy(int8_file, damaged)
    shutil.copy(record_path(int8_file), record_path(damaged))
    with open(damaged, "r+b") as fh:
        fh.seek(5000)
        byte = fh.read(1)
        fh.seek(5000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EmbedderUnavailableError, match="damaged"):
        OnnxEmbedder(default_embedder_path(), damaged)


def test_a_workspace_of_the_fp32_model_is_re_embedded_for_int8_and_back(
    tmp_path: Path, int8_file: Path, onnx_embedder: OnnxEmbedder
) -> None:
    """A changed embedder (fp32 -> int8) re-embeds from the manifest with progress; the same
    workspace goes back to fp32 the same way; nothing is lost either way."""
    root = tmp_path / "ws"
    docs = write_corpus(tmp_path / "docs", ["lease-agreement.txt", "cardiology-note.txt"])
    with WorkspaceIndex(root, onnx_embedder) as idx:
        for path in docs:
            assert idx.ingest_file(path).outcome == "indexed"
        live = idx.manifest.live_chunk_count()
    int8 = OnnxEmbedder(default_embedder_path(), int8_file)
    with pytest.raises(EmbedderMismatchError):
        WorkspaceIndex(root, int8)
    for embedder in (int8, onnx_embedder):
        seen: list[tuple[int, int]] = []
        report = reembed_workspace(root, embedder, lambda d, t, s=seen: s.append((d, t)))
        assert report is not None and report.chunks == live
        assert seen[0] == (0, live) and seen[-1] == (live, live)
        assert recorded_embedder(root) == (embedder.name, 384)
        with WorkspaceIndex(root, embedder) as idx:
            assert idx.store.count() == idx.manifest.live_chunk_count() == live
            hit = idx.search("What is the monthly rent of the bakery?", k=1, mode="dense")[0]
            assert hit.document_name == "lease-agreement.txt"
