"""WorkspaceIndex with real chromadb on disk and the real all-MiniLM-L6-v2 embedder.

Documents are given already extracted (ingest_parsed) so that these tests exercise the index
alone; tests/integration/test_index_files.py covers real files end to end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.embedder import HashEmbedder
from rag.index import IngestCancelled, WorkspaceIndex, document_id_for
from rag.manifest import EmbedderMismatchError
from rag.store import REFUSAL, WorkspaceBusyError
from rag.types import ParsedDocument
from tests.integration.index_helpers import CORPUS, make_document, paragraph_chunks

pytestmark = pytest.mark.slow

DOCS = Path("/matter")  # documents given as parsed text need no file on disk


def _ingest(index: WorkspaceIndex, name: str, pages: list[str] | None = None) -> str:
    parsed = make_document(pages if pages is not None else CORPUS[name])
    path = DOCS / name
    report = index.ingest_parsed(
        path, parsed, chunks=paragraph_chunks(document_id_for(path), parsed)
    )
    assert report.outcome in ("indexed", "unchanged"), report
    return report.document_id


@pytest.fixture
def index(tmp_path: Path, real_embedder: Any) -> Iterator[WorkspaceIndex]:
    idx = WorkspaceIndex(tmp_path / "ws", real_embedder)
    yield idx
    idx.close()


@pytest.fixture
def full(index: WorkspaceIndex) -> WorkspaceIndex:
    for name in CORPUS:
        _ingest(index, name)
    return index


def _names(hits: list[Any]) -> list[str]:
    return [h.document_name for h in hits]


def test_search_finds_the_right_chunk_with_page_and_exact_offsets(full: WorkspaceIndex) -> None:
    hits = full.search("What anticoagulation was started, and after which risk score?", k=3)
    top = hits[0]
    assert top.document_name == "cardiology-note.txt"
    assert "apixaban" in top.chunk.text and top.chunk.page == 1
    assert top.path == str((DOCS / "cardiology-note.txt").resolve())
    span = full.document_text_span(top.chunk.document_id, top.chunk.start, top.chunk.end)
    assert span == top.chunk.text
    assert top.dense_similarity is not None and 0.3 < top.dense_similarity <= 1.0
    # A page-2 fact comes back with page 2.
    hit = full.search("How often should cardiac function be monitored on trastuzumab?", k=1)[0]
    assert hit.document_name == "oncology-letter.txt" and hit.chunk.page == 2
    assert full.chunk(hit.chunk.id) == hit.chunk
    assert full.document_text_span(hit.chunk.document_id, hit.chunk.start, hit.chunk.end) == (
        hit.chunk.text
    )


def test_every_mode_returns_live_chunks_with_their_own_scores(full: WorkspaceIndex) -> None:
    for mode in ("hybrid", "dense", "lexical"):
        hits = full.search("termination notice for the lease", k=4, mode=mode)
        assert hits and hits[0].document_name == "lease-agreement.txt", mode
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    lexical = full.search("lease", k=4, mode="lexical")
    assert all(h.lexical_rank is not None and h.dense_similarity is None for h in lexical)
    assert all(h.dense_similarity is not None for h in full.search("lease", k=4))


def test_two_workspaces_never_see_each_other(tmp_path: Path, real_embedder: Any) -> None:
    with (
        WorkspaceIndex(tmp_path / "clinic", real_embedder) as clinic,
        WorkspaceIndex(tmp_path / "firm", real_embedder) as firm,
    ):
        _ingest(clinic, "cardiology-note.txt")
        _ingest(clinic, "oncology-letter.txt")
        _ingest(firm, "lease-agreement.txt")
        _ingest(firm, "court-order.txt")
        for query in ("apixaban", "trastuzumab cardiomyopathy", "lease rent", "2:19-cv-04417"):
            for mode in ("hybrid", "dense", "lexical"):
                assert set(_names(clinic.search(query, k=10, mode=mode))) <= {
                    "cardiology-note.txt", "oncology-letter.txt"
                }  # fmt: skip
                assert set(_names(firm.search(query, k=10, mode=mode))) <= {
                    "lease-agreement.txt", "court-order.txt"
                }  # fmt: skip
        assert {d.name for d in clinic.documents()} == {
            "cardiology-note.txt",
            "oncology-letter.txt",
        }
        assert clinic.store.count() == clinic.manifest.live_chunk_count()


def test_reingesting_unchanged_does_nothing(full: WorkspaceIndex) -> None:
    before = (full.manifest.total_changes, full.store.count(), full.documents())
    name = "court-order.txt"
    parsed = make_document(CORPUS[name])
    report = full.ingest_parsed(DOCS / name, parsed, chunks=paragraph_chunks("x", parsed))
    assert report.outcome == "unchanged" and report.chunk_count == 3
    after = (full.manifest.total_changes, full.store.count(), full.documents())
    assert after == before


def test_changed_document_replaces_atomically(full: WorkspaceIndex) -> None:
    name = "lease-agreement.txt"
    doc_id = document_id_for(DOCS / name)
    old_count = full.store.count()
    seen_during: list[list[str]] = []

    def between_chroma_write_and_commit(doc: str, version: int) -> None:
        # The new vectors are in chroma, the manifest has not switched: old is what is live.
        hits = full.search("monthly base rent late fee", k=3)
        seen_during.append([h.chunk.text for h in hits if h.chunk.document_id == doc_id])
        assert full.store.count() > old_count
        assert not full.search("kombucha", k=3, mode="lexical")

    full.before_commit = between_chroma_write_and_commit
    new_pages = [
        "This commercial lease is made between Harbor Properties LLC and Blue Finch Kombucha.\n\n"
        "The Tenant shall pay a quarterly base rent of 13,000 dollars in advance.",
    ]
    _ingest(full, name, new_pages)
    full.before_commit = None
    assert seen_during and any("4,500 dollars" in t for t in seen_during[0])
    hits = full.search("quarterly base rent", k=5)
    lease = [h for h in hits if h.chunk.document_id == doc_id]
    assert lease and all("4,500" not in h.chunk.text for h in lease)
    assert any("13,000 dollars" in h.chunk.text for h in lease)
    assert full.search("kombucha", k=3, mode="lexical")[0].chunk.document_id == doc_id
    assert not [
        h for h in full.search("ninety days written notice", k=10) if "ninety" in h.chunk.text
    ]
    # Old vectors are gone: chroma holds exactly the live chunks, no pending versions remain.
    assert full.store.count() == full.manifest.live_chunk_count()
    assert full.manifest.pending() == []
    assert full.document(doc_id) is not None and full.document(doc_id).chunk_count == 2  # type: ignore[union-attr]


def test_a_failed_update_keeps_the_previous_version(full: WorkspaceIndex) -> None:
    name = "court-order.txt"
    empty = ParsedDocument(text="   ", pages=make_document(["   "]).pages)
    report = full.ingest_parsed(DOCS / name, empty, chunks=[])
    assert report.outcome == "rejected" and "No text" in report.reason
    record = full.document(document_id_for(DOCS / name))
    assert record is not None and record.status == "indexed" and record.chunk_count == 3
    assert "still searchable" in record.reason
    assert full.search("motion to dismiss", k=1)[0].document_name == name


def test_a_new_document_with_no_text_is_rejected_not_indexed(index: WorkspaceIndex) -> None:
    empty = make_document(["\n\n   "])
    report = index.ingest_parsed(DOCS / "blank.txt", empty, chunks=[])
    assert report.outcome == "rejected" and report.chunk_count == 0
    assert index.documents()[0].status == "rejected"
    assert index.search("anything at all", k=5) == []


def test_remove_deletes_from_manifest_fts_and_chroma(full: WorkspaceIndex) -> None:
    doc_id = document_id_for(DOCS / "garden-diary.txt")
    n = full.document(doc_id).chunk_count  # type: ignore[union-attr]
    count = full.store.collection.count()
    assert full.remove(DOCS / "garden-diary.txt") is True
    assert full.store.collection.count() == count - n
    assert full.store.collection.get(where={"document_id": doc_id}, include=[])["ids"] == []
    assert full.document(doc_id) is None
    assert full.search("tomatoes raised beds", k=10, mode="lexical") == []
    assert all(h.chunk.document_id != doc_id for h in full.search("tomatoes raised beds", k=10))
    with pytest.raises(KeyError):
        full.document_text_span(doc_id, 0, 10)
    assert full.remove(doc_id) is False


def test_rebuild_vectors_from_the_manifest_gives_the_same_results(full: WorkspaceIndex) -> None:
    queries = ["anticoagulation", "warranty period for pumps", "dismissed with leave to amend"]
    before = [[(h.chunk.id, round(h.score, 6)) for h in full.search(q, k=5)] for q in queries]
    full.store.reset()
    assert full.store.count() == 0
    assert full.rebuild_vectors() == full.manifest.live_chunk_count()
    after = [[(h.chunk.id, round(h.score, 6)) for h in full.search(q, k=5)] for q in queries]
    assert after == before


def test_exact_word_queries_rank_first_in_hybrid(full: WorkspaceIndex) -> None:
    for query, where in (
        ("zorvatinib dose", "garden-diary.txt"),
        ("2:19-cv-04417", "court-order.txt"),
        ("3:21-cv-00873 order", "court-minutes.txt"),
    ):
        target = full.search(query, k=1, mode="lexical")[0].chunk.id
        dense = full.search(query, k=1, mode="dense")
        assert dense[0].chunk.id != target, f"precondition: dense alone misses {query}"
        hybrid = full.search(query, k=5)
        assert hybrid[0].chunk.id == target and hybrid[0].document_name == where
        assert hybrid[0].lexical_rank == 1 and hybrid[0].dense_similarity is not None


def test_weird_queries_are_safe(full: WorkspaceIndex) -> None:
    for query in ['"', "AND", "*", ")", "(", "NEAR(x", "-", "OR OR", "a:b", "", '"apixaban']:
        for mode in ("hybrid", "dense", "lexical"):
            hits = full.search(query, k=3, mode=mode)
            assert isinstance(hits, list) and len(hits) <= 3
    assert full.search('"apixaban', k=1, mode="lexical")[0].document_name == "cardiology-note.txt"
    assert full.search("apixaban AND", k=1, mode="lexical")[0].document_name == (
        "cardiology-note.txt"
    )


def test_the_collection_refuses_to_embed_text(full: WorkspaceIndex) -> None:
    collection = full.store.collection
    with pytest.raises(RuntimeError, match=REFUSAL):
        collection.query(query_texts=["metoprolol"], n_results=1)
    with pytest.raises(RuntimeError, match=REFUSAL):
        collection.add(ids=["x"], documents=["some text"])
    assert collection.count() == full.manifest.live_chunk_count()


def test_reopen_with_another_embedder_or_twice_is_refused(
    tmp_path: Path, real_embedder: Any
) -> None:
    root = tmp_path / "ws"
    with WorkspaceIndex(root, real_embedder) as idx:
        _ingest(idx, "court-order.txt")
        with pytest.raises(WorkspaceBusyError, match="already open"):
            WorkspaceIndex(root, real_embedder)
    with pytest.raises(EmbedderMismatchError, match="re-index"):
        WorkspaceIndex(root, HashEmbedder(384))
    with WorkspaceIndex(root, real_embedder) as idx:  # the failed opens left no lock behind
        assert idx.search("motion to dismiss", k=1)[0].document_name == "court-order.txt"


def test_cancel_leaves_the_previous_version_untouched(full: WorkspaceIndex) -> None:
    name = "supply-contract.txt"
    before = full.store.count()
    parsed = make_document(["A completely different supply agreement about gauze."])
    with pytest.raises(IngestCancelled):
        full.ingest_parsed(
            DOCS / name, parsed, chunks=paragraph_chunks("x", parsed), cancel=lambda: True
        )
    assert full.store.count() == before and full.manifest.pending() == []
    assert full.search("infusion pumps warranty", k=1)[0].document_name == name
    assert full.search("gauze", k=5, mode="lexical") == []


def test_recover_removes_orphans_and_restores_missing_vectors(full: WorkspaceIndex) -> None:
    live = sorted(full.manifest.live_chunk_ids())
    full.store.add(["orphan-1"], [[0.1] * 384], [{"document_id": "gone", "version": 99, "page": 1}])
    full.store.delete_ids(live[:2])
    report = full.recover()
    assert report.orphan_vectors_removed == 1 and report.vectors_restored == 2
    assert full.store.all_ids() == set(live)


@pytest.mark.parametrize("damaged", ["*", "*.bin"])
def test_unreadable_vectors_are_set_aside_and_rebuilt(
    tmp_path: Path, real_embedder: Any, damaged: str
) -> None:
    root = tmp_path / "ws"
    with WorkspaceIndex(root, real_embedder) as idx:
        for name in CORPUS:
            _ingest(idx, name)
        # Enough vectors that chroma writes its HNSW files (it flushes every 1,000 by default);
        # they are not in the manifest, so they are orphans that the rebuild must not restore.
        pad = [f"pad-{n}" for n in range(1100)]
        meta: dict[str, str | int] = {"document_id": "pad", "version": 1, "page": 1}
        idx.store.add(pad, [[0.01 * (n % 7 + 1)] * 384 for n in range(1100)], [meta] * 1100)
        expected = [h.chunk.id for h in idx.search("ejection fraction", k=3)]
    files = [f for f in (root / "chroma").rglob(damaged) if f.is_file()]
    assert files
    for file in files:
        if file.is_file():
            file.write_bytes(b"\0garbage\0" * 64)
    with WorkspaceIndex(root, real_embedder) as idx:
        assert [h.chunk.id for h in idx.search("ejection fraction", k=3)] == expected
        assert idx.store.count() == idx.manifest.live_chunk_count()
    assert any(p.name.startswith("chroma.unreadable-") for p in root.iterdir())


def test_a_chroma_folder_the_manifest_did_not_write_is_never_opened(
    tmp_path: Path, real_embedder: Any
) -> None:
    root = tmp_path / "ws"
    (root / "chroma").mkdir(parents=True)
    (root / "chroma" / "chroma.sqlite3").write_bytes(b"planted by someone else")
    with WorkspaceIndex(root, real_embedder) as idx:
        assert idx.store.count() == 0
        _ingest(idx, "court-order.txt")
    aside = [p for p in root.iterdir() if p.name.startswith("chroma.untrusted-")]
    assert len(aside) == 1 and (aside[0] / "chroma.sqlite3").read_bytes().startswith(b"planted")


def test_search_runs_while_another_thread_ingests(index: WorkspaceIndex) -> None:
    _ingest(index, "cardiology-note.txt")
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            for n in range(4):
                for name in ("oncology-letter.txt", "lease-agreement.txt", "court-order.txt"):
                    pages = [p + f" Revision {n}." for p in CORPUS[name]]
                    _ingest(index, name, pages)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    searches = 0
    while not stop.is_set() or searches == 0:
        hits = index.search("apixaban anticoagulation", k=5)
        assert hits[0].document_name == "cardiology-note.txt"
        live = index.manifest.live_chunk_ids()
        assert len({h.chunk.id for h in hits}) == len(hits)
        assert all(h.chunk.document_id != "" for h in hits) and live
        searches += 1
    thread.join()
    assert not errors and searches > 0
    assert index.store.count() == index.manifest.live_chunk_count()
    assert index.manifest.pending() == []
