"""The SQLite manifest (rag.manifest): versions, atomic switch, failures, FTS5/BM25, sanitising."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.manifest import EmbedderMismatchError, Manifest, ManifestError, fts_query
from rag.types import Chunk, Page


def _chunks(doc: str, version: int, texts: list[str]) -> tuple[str, list[Chunk], list[Page]]:
    text = ""
    chunks: list[Chunk] = []
    for n, part in enumerate(texts):
        start = len(text)
        text += part + "\n"
        chunks.append(Chunk(f"{doc}-v{version}-{n}", doc, n + 1, start, start + len(part), part))
    pages = [Page(n + 1, c.start, c.end + 1) for n, c in enumerate(chunks)]
    return text, chunks, pages


def _commit(m: Manifest, doc: str, texts: list[str], sha: str = "s1") -> int:
    version = m.begin_version(doc)
    text, chunks, pages = _chunks(doc, version, texts)
    m.commit_version(
        doc_id=doc, name=f"{doc}.txt", path=f"/docs/{doc}.txt", sha256=sha, size=len(text),
        mtime=0.0, status="indexed", version=version, chunks=chunks, text=text, pages=pages,
        warnings=[],
    )  # fmt: skip
    return version


@pytest.fixture
def manifest(tmp_path: Path) -> Iterator[Manifest]:
    m = Manifest(tmp_path / "manifest.sqlite3")
    yield m
    m.close()


def test_commit_makes_a_version_live_and_marks_the_old_one_for_deletion(manifest: Manifest) -> None:
    v1 = _commit(manifest, "d1", ["alpha beta", "gamma delta"])
    assert manifest.pending() == []
    row = manifest.document("d1")
    assert row is not None and row.is_live and row.version == v1 and row.chunk_count == 2
    assert manifest.live_chunk_ids() == {f"d1-v{v1}-0", f"d1-v{v1}-1"}

    v2 = manifest.begin_version("d1")
    assert v2 > v1
    assert ("d1", v2) in manifest.pending()
    # Until the switch commits, the old version is what is live (and what FTS finds).
    assert [cid for cid, _ in manifest.lexical("gamma", 5)] == [f"d1-v{v1}-1"]
    text, chunks, pages = _chunks("d1", v2, ["epsilon zeta"])
    old = manifest.commit_version(
        doc_id="d1", name="d1.txt", path="/docs/d1.txt", sha256="s2", size=1, mtime=0.0,
        status="indexed", version=v2, chunks=chunks, text=text, pages=pages, warnings=[],
    )  # fmt: skip
    assert old == v1
    assert manifest.pending() == [("d1", v1)]  # its vectors still have to go
    assert manifest.lexical("gamma", 5) == []
    assert [cid for cid, _ in manifest.lexical("epsilon", 5)] == [f"d1-v{v2}-0"]
    assert manifest.document_text("d1") == "epsilon zeta\n"
    assert manifest.pages("d1") == [Page(1, 0, 13)]


def test_versions_are_never_reused(manifest: Manifest) -> None:
    seen = {manifest.begin_version("d1") for _ in range(3)} | {manifest.begin_version("d2")}
    assert len(seen) == 4


def test_failure_keeps_a_live_version(manifest: Manifest) -> None:
    v1 = _commit(manifest, "d1", ["the original contract text"])
    row = manifest.record_failure(
        doc_id="d1", name="d1.txt", path="/docs/d1.txt", sha256="bad", size=5, mtime=1.0,
        outcome="rejected", reason="It is damaged.", warnings=[],
    )  # fmt: skip
    assert row.status == "indexed" and row.version == v1 and row.sha256 == "s1"
    assert "It is damaged." in row.reason and "still searchable" in row.reason
    assert row.last_attempt_outcome == "rejected"
    assert [c for c, _ in manifest.lexical("original", 5)] == [f"d1-v{v1}-0"]
    cleared = manifest.clear_failure_note("d1")
    assert cleared.reason == "" and cleared.last_attempt_sha256 == "s1"


def test_failure_of_a_new_document_is_recorded_with_its_reason(manifest: Manifest) -> None:
    row = manifest.record_failure(
        doc_id="d9", name="x.pdf", path="/docs/x.pdf", sha256="h", size=5, mtime=1.0,
        outcome="needs_password", reason="It is password-protected.", warnings=["w"],
    )  # fmt: skip
    assert row.status == "needs_password" and not row.is_live and row.chunk_count == 0
    rec = row.record()
    assert rec.reason == "It is password-protected." and rec.warnings == ["w"]


def test_remove_deletes_rows_text_and_fts(manifest: Manifest) -> None:
    v1 = _commit(manifest, "d1", ["metoprolol tartrate"])
    _commit(manifest, "d2", ["lisinopril"])
    assert manifest.remove_document("d1") is True
    assert manifest.remove_document("d1") is False
    assert manifest.document("d1") is None and manifest.document_text("d1") is None
    assert manifest.lexical("metoprolol", 5) == []
    assert manifest.pending() == [("d1", v1)]
    assert manifest.live_chunk_count() == 1
    # The FTS index agrees with its content table.
    manifest.check_lexical_index()


def test_bm25_prefers_the_chunk_with_the_rare_word(manifest: Manifest) -> None:
    _commit(manifest, "d1", ["the dose of the drug", "the dose of warfarin was 5 mg", "dose"])
    ids = [c for c, _ in manifest.lexical("warfarin dose", 5)]
    assert ids[0].endswith("-1")
    assert len(ids) == 3  # OR semantics: every chunk with any term


@pytest.mark.parametrize(
    "query",
    ['"', "AND", "*", ")", "(", "NEAR(", "a OR", "^x", "col:val", '""""', "-", "\x00", "   "],
)
def test_weird_queries_never_raise(manifest: Manifest, query: str) -> None:
    _commit(manifest, "d1", ["and or not near col val x a"])
    result = manifest.lexical(query, 5)
    assert isinstance(result, list)


def test_fts_query_quotes_every_term() -> None:
    assert fts_query('metoprolol AND "x') == '"metoprolol" OR "AND" OR """x"'
    assert fts_query("case 2:19-cv-01234") == '"case" OR "2:19-cv-01234"'
    assert fts_query("* ) ( -") == ""
    assert fts_query("Dose dose DOSE") == '"Dose"'


def test_case_number_matches_as_a_sequence(manifest: Manifest) -> None:
    _commit(manifest, "d1", ["Case 2:19-cv-01234 was dismissed.", "Case 2:19-cv-09999 and 01234"])
    assert [c for c, _ in manifest.lexical("2:19-cv-01234", 5)] == [
        c.id for c in manifest.document_chunks("d1")[:1]
    ]


def test_embedder_identity_is_checked_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    m = Manifest(path)
    assert m.check_embedder("model-a", 384) is True  # fresh: recorded now
    assert m.check_embedder("model-a", 384) is False
    m.close()
    m = Manifest(path)
    with pytest.raises(EmbedderMismatchError, match="model-a"):
        m.check_embedder("model-b", 384)
    with pytest.raises(EmbedderMismatchError):
        m.check_embedder("model-a", 768)
    m.close()


def test_committed_data_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    m = Manifest(path)
    v = _commit(m, "d1", ["persisted words"])
    m.close()
    m = Manifest(path)
    assert [c for c, _ in m.lexical("persisted", 5)] == [f"d1-v{v}-0"]
    assert m.get_meta("version_seq") == str(v)
    m.close()


def test_not_a_database_and_newer_schema_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ManifestError, match="not a readable"):
        Manifest(junk)
    newer = tmp_path / "newer.sqlite3"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(ManifestError, match="newer Enclave"):
        Manifest(newer)
