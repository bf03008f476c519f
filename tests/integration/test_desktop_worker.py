"""The desktop's worker process (app.desktop.worker), with the real search model, real chromadb
on disk and real files from shared/eval: the window's process never opens an index, a search is
answered while a long ingest runs, Cancel reaches the child, and a dead child is said in words."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.container import Enclave
from app.desktop.facade import (
    CancelToken,
    FileOutcome,
    IngestSummary,
    ProcessIndex,
    WorkerIndexes,
    WorkerProcessError,
    ingest_paths,
    open_desktop,
)
from app.library.ingest import IngestEvent

pytestmark = pytest.mark.slow

CONTRACT = "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.txt"


@pytest.fixture
def desktop() -> Iterator[Enclave]:
    enclave = open_desktop()
    try:
        yield enclave
    finally:
        enclave.close()


def _ingest(
    enclave: Enclave, ws_name: str, paths: list[Path], cancel: CancelToken | None = None
) -> list[IngestEvent]:
    ws = enclave.workspaces.get_or_create(ws_name)
    index = enclave.index(ws)
    return list(ingest_paths(index, paths, limits=enclave.parse_limits, cancel=cancel))


def test_the_worker_embeds_exactly_like_the_in_process_model(
    desktop: Enclave, real_embedder: object
) -> None:
    texts = ["The term of this Agreement is five (5) years.", "Patient denies chest pain."]
    embedder = desktop.embedder
    assert embedder.name == real_embedder.name  # type: ignore[attr-defined]
    assert embedder.dimension == real_embedder.dimension  # type: ignore[attr-defined]
    got = embedder.embed(texts)
    want = real_embedder.embed(texts)  # type: ignore[attr-defined]
    for a, b in zip(got, want, strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5
    assert embedder.embed([]) == []


def test_a_contract_is_indexed_searched_cited_and_removed_through_the_worker(
    desktop: Enclave, eval_dir: Path
) -> None:
    contract = eval_dir / "cuad" / "contracts" / CONTRACT
    events = _ingest(desktop, "Aduro matter", [contract])
    outcome = next(e for e in events if isinstance(e, FileOutcome))
    assert outcome.report.outcome == "indexed" and outcome.report.chunk_count > 5
    ws = desktop.workspaces.get("Aduro matter")
    index = desktop.index(ws)
    hits = index.search("How is the consultant compensated?", k=3)
    assert hits and all(h.document_name == contract.name for h in hits)
    assert index.chunk(hits[0].chunk.id) == hits[0].chunk
    assert "compensat" in " ".join(h.chunk.text.lower() for h in hits)
    assert [d.name for d in index.documents()] == [contract.name]
    # The window's process never opened an index: chroma is not process-safe.
    assert desktop.workspaces.open_ids() == ()
    assert isinstance(desktop.index(ws), ProcessIndex)
    assert index.remove(outcome.report.document_id)
    assert index.documents() == []
    assert index.search("consultant", k=3) == []
    # Deleting the workspace closes its index in the worker first, then removes the folder.
    desktop.delete_workspace(ws.id)
    assert not ws.folder.exists()


def test_a_search_is_answered_while_a_long_ingest_runs_and_cancel_reaches_the_worker(
    desktop: Enclave, eval_dir: Path
) -> None:
    contract = eval_dir / "cuad" / "contracts" / CONTRACT
    _ingest(desktop, "Matter", [contract])
    index = desktop.index(desktop.workspaces.get("Matter"))
    long_pdf = eval_dir / "docs" / "pdf" / "stress" / "many_pages_2000.pdf"
    token = CancelToken()
    result: list[list[IngestEvent]] = []
    ingest = threading.Thread(
        target=lambda: result.append(_ingest(desktop, "Matter", [long_pdf], cancel=token))
    )
    ingest.start()
    try:
        hits = index.search("termination of the agreement", k=2)
        assert hits, "a search during the ingest got no answer"
        assert ingest.is_alive(), "the 2,000-page ingest ended before the search was answered"
    finally:
        token.cancel()
        ingest.join(timeout=120)
    assert not ingest.is_alive()
    summary = result[0][-1]
    assert isinstance(summary, IngestSummary) and summary.cancelled
    assert [d.name for d in index.documents()] == [contract.name]  # nothing half-added


def test_a_worker_that_dies_is_reported_in_words(desktop: Enclave) -> None:
    ws = desktop.workspaces.get_or_create("Ward 3")
    index = desktop.index(ws)
    assert index.documents() == []
    assert isinstance(desktop.indexes, WorkerIndexes)
    worker = desktop.indexes.worker()
    os.kill(worker.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while worker.running and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(WorkerProcessError, match="stopped unexpectedly"):
        index.documents()


def test_errors_in_the_worker_come_back_as_the_same_exception(desktop: Enclave) -> None:
    ws = desktop.workspaces.get_or_create("Ward 4")
    with pytest.raises(KeyError):
        desktop.index(ws).chunk("no-such-chunk")
    with pytest.raises(WorkerProcessError, match="does not offer"):
        desktop.indexes.worker().call("index", (ws.id, "rebuild_vectors", (), {}))
