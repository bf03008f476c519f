"""Minimum necessary through the desktop's worker process: the window's index lives in a child
process (app.desktop.worker.ProcessIndex), and a document is still read whole, chunk by chunk,
to see whom it is about. Real worker, real search model, real chromadb; nothing is sent (the
request is only prepared)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.desktop.facade import ingest_paths, open_desktop
from app.frontier.minimum import document_text
from tests.frontier_notes import NOTES, QUESTION, SUBJECT_NOTE

pytestmark = pytest.mark.slow

WORKSPACE = "ward-7"
# A long note (several chunks) about metformin whose patient is named only in its last chunk.
LONG_NOTE = (
    "".join(
        f"Day {n}: metformin tolerated, glucose stable, no hypoglycaemia, diet reviewed again.\n"
        for n in range(1, 40)
    )
    + "Patient: Carlos Vega   MRN: 5566778   (signed off at the end of the admission)\n"
)


def test_the_desktop_reads_documents_whole_and_leaves_other_patients_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "frontier": {
        "enabled": True, "workspaces": [WORKSPACE], "max_chunks": 4,
        "endpoints": [{"id": "gw", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                       "requires_key": False}],
    }}))  # fmt: skip
    monkeypatch.setenv("ENCLAVE_POLICY", str(policy))
    folder = tmp_path / "notes"
    folder.mkdir()
    for name, text in {**NOTES, "vega_admission.txt": LONG_NOTE}.items():
        (folder / name).write_text(text, encoding="utf-8")
    enclave = open_desktop()
    try:
        ws = enclave.workspaces.create(WORKSPACE)
        index = enclave.index(ws)
        assert type(index).__name__ == "ProcessIndex"  # the window's index, in the worker
        list(ingest_paths(index, [folder], limits=enclave.parse_limits))
        vega = next(d for d in index.documents() if d.name == "vega_admission.txt")
        assert vega.chunk_count >= 3
        whole = document_text(index, vega.id)
        assert whole is not None and "Carlos Vega" in whole and whole.startswith("Day 1:")

        prepared = enclave.frontier.prepare(ws, QUESTION)
        left = {item.document: item.reason for item in prepared.request.left_out}
        assert {h.document_name for h in prepared.sources} == {SUBJECT_NOTE}
        assert left.get("treharne_progress_note.txt") == "names another patient"
        assert left.get("castillo_phone_note.txt") == "names another patient"
        # Found by the search (metformin), named only in its last chunk: left out whole.
        assert left.get("vega_admission.txt") == "names another patient"
        assert "Carlos" not in prepared.request.display_text
    finally:
        enclave.close()
