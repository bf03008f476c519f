"""WorkspaceIndex.ingest_file on real files (real contracts, real PDFs), with the real embedder,
real rag.extract/rag.chunking and chromadb on disk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.extract import extract
from rag.index import WorkspaceIndex

pytestmark = pytest.mark.slow

CONTRACT_TXT = "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.txt"
CONTRACT_PDF = "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.pdf"
LEASE_TXT = "ATMOSENERGYCORP_11_22_2002-EX-10.17-TRANSPORTATION SERVICE AGREEMENT.txt"


@pytest.fixture
def index(tmp_path: Path, real_embedder: Any) -> Iterator[WorkspaceIndex]:
    idx = WorkspaceIndex(tmp_path / "ws", real_embedder)
    yield idx
    idx.close()


@pytest.fixture
def matter(tmp_path: Path, eval_dir: Path) -> Path:
    """A user's folder with copies of real files (odd names included)."""
    folder = tmp_path / "matter, #1 & co"
    folder.mkdir()
    for name in (CONTRACT_TXT, LEASE_TXT):
        shutil.copy(eval_dir / "cuad" / "contracts" / name, folder / name)
    shutil.copy(eval_dir / "docs" / "pdf" / "legal" / CONTRACT_PDF, folder / CONTRACT_PDF)
    for name in ("encrypted/libreoffice-writer-password.pdf", "scanned/c02-22.pdf"):
        shutil.copy(eval_dir / "docs" / "pdf" / name, folder / Path(name).name)
    return folder


def test_real_pdf_hits_carry_the_page_and_offsets_of_the_extracted_text(
    index: WorkspaceIndex, matter: Path
) -> None:
    stages: list[str] = []
    report = index.ingest_file(matter / CONTRACT_PDF, progress=lambda s, d, t: stages.append(s))
    assert report.outcome == "indexed" and report.pages == 4 and report.chunk_count > 5
    assert stages[0] == "hashing" and "embedding" in stages and stages[-1] == "done"
    hit = index.search("For how long may the consultant not solicit Aduro's employees?", k=1)[0]
    assert "solicit" in hit.chunk.text
    # Independent check: extract the PDF again and compare text, offsets and page.
    parsed = extract(matter / CONTRACT_PDF).parsed
    assert parsed is not None
    assert parsed.text[hit.chunk.start : hit.chunk.end] == hit.chunk.text
    page = next(p for p in parsed.pages if p.start <= hit.chunk.start < p.end)
    assert hit.chunk.page == page.number == 3
    assert index.document_text_span(report.document_id, hit.chunk.start, hit.chunk.end) == (
        hit.chunk.text
    )


def test_cuad_text_offsets_align_with_the_file(index: WorkspaceIndex, matter: Path) -> None:
    index.ingest_file(matter / CONTRACT_TXT)
    text = (matter / CONTRACT_TXT).read_bytes().decode("utf-8")
    for hit in index.search("governing law of this agreement", k=5):
        assert text[hit.chunk.start : hit.chunk.end] == hit.chunk.text


def test_unchanged_file_is_skipped_without_writes(index: WorkspaceIndex, matter: Path) -> None:
    first = index.ingest_file(matter / CONTRACT_TXT)
    assert first.outcome == "indexed"
    before = (index.manifest.total_changes, index.store.count(), index.documents())
    again = index.ingest_file(matter / CONTRACT_TXT)
    assert again.outcome == "unchanged" and again.chunk_count == first.chunk_count
    assert (index.manifest.total_changes, index.store.count(), index.documents()) == before


def test_changed_file_replaces_its_chunks(index: WorkspaceIndex, matter: Path) -> None:
    path = matter / LEASE_TXT
    first = index.ingest_file(path)
    assert index.search("Atmos transportation gas", k=1, mode="lexical")
    path.write_text(
        "AMENDED AGREEMENT. The shipper shall deliver quinoa to the warehouse in Duluth.\n",
        encoding="utf-8",
    )
    second = index.ingest_file(path)
    assert second.outcome == "indexed" and second.document_id == first.document_id
    assert second.chunk_count == 1
    assert index.search("quinoa Duluth", k=1)[0].chunk.document_id == first.document_id
    assert index.search("Atmos", k=5, mode="lexical") == []
    assert index.store.count() == index.manifest.live_chunk_count() == 1
    assert [d.sha256 for d in index.documents()] != [""]


def test_a_damaged_new_version_keeps_the_old_one(
    index: WorkspaceIndex, matter: Path, eval_dir: Path
) -> None:
    path = matter / CONTRACT_PDF
    good = index.ingest_file(path)
    truncated = eval_dir / "docs" / "pdf" / "malformed" / "truncated_LIMEENERGYCO_60pct.pdf"
    shutil.copy(truncated, path)
    bad = index.ingest_file(path)
    assert bad.outcome == "rejected" and "damaged" in bad.reason and bad.chunk_count == 0
    assert "still searchable" in bad.reason
    record = index.document(good.document_id)
    assert record is not None and record.status == "indexed"
    assert record.chunk_count == good.chunk_count and "still searchable" in record.reason
    assert index.search("nonsolicitation restricted period", k=1)[0].document_name == CONTRACT_PDF
    # Restoring the good file clears the note without re-indexing.
    shutil.copy(eval_dir / "docs" / "pdf" / "legal" / CONTRACT_PDF, path)
    back = index.ingest_file(path)
    assert back.outcome == "unchanged" and back.reason == ""


def test_password_pdfs_are_recorded_never_indexed_empty_and_scans_are_read_by_ocr(
    index: WorkspaceIndex, matter: Path
) -> None:
    locked = index.ingest_file(matter / "libreoffice-writer-password.pdf")
    assert locked.outcome == "needs_password" and "password" in locked.reason.lower()
    assert {d.status for d in index.documents()} == {"needs_password"}
    assert index.store.count() == 0
    # A scan without a text layer: read by OCR, indexed, searchable, its page marked as OCR'd.
    scanned = index.ingest_file(matter / "c02-22.pdf")
    assert scanned.outcome == "indexed" and scanned.chunk_count > 0, scanned.reason
    hit = index.search("tip-toeing along a path amongst the trees to the widow's garden", k=1)[0]
    assert hit.document_name == "c02-22.pdf" and hit.chunk.page == 1 and hit.chunk.ocr
    assert "garden" in hit.chunk.text
    opened = index.ingest_file(matter / "libreoffice-writer-password.pdf", password="openpassword")
    assert opened.outcome in ("indexed", "indexed_with_warnings") and opened.chunk_count > 0
    assert opened.document_id == locked.document_id
    assert index.document(opened.document_id).status == opened.outcome  # type: ignore[union-attr]
    missing = index.ingest_file(matter / "not-there.pdf")
    assert missing.outcome == "rejected" and "not found" in missing.reason


def test_remove_by_path(index: WorkspaceIndex, matter: Path) -> None:
    index.ingest_file(matter / CONTRACT_TXT)
    index.ingest_file(matter / LEASE_TXT)
    assert index.remove(matter / CONTRACT_TXT) is True
    assert [d.name for d in index.documents()] == [LEASE_TXT]
    assert all(h.document_name == LEASE_TXT for h in index.search("consultant services", k=10))
    assert index.store.count() == index.manifest.live_chunk_count()
