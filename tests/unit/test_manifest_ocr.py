"""Pages read by OCR in the manifest: chunks on them carry the flag back, a removed document
takes its flags with it, and an index made before the flag existed still reads (read-only)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rag.manifest import Manifest
from rag.types import Chunk, Page

TEXTS = ["Typed page one of the letter.", "Scanned page two: apixaban 5 mg twice daily."]


def commit(m: Manifest, doc: str, ocr_pages: set[int]) -> list[Chunk]:
    version = m.begin_version(doc)
    text, chunks, pages = "", [], []
    for number, part in enumerate(TEXTS, start=1):
        start = len(text)
        text += part + "\n\n"
        chunks.append(Chunk(f"{doc}:{number}", doc, number, start, start + len(part), part))
        pages.append(Page(number, start, start + len(part), ocr=number in ocr_pages))
    m.commit_version(
        doc_id=doc, name=f"{doc}.pdf", path=f"/docs/{doc}.pdf", sha256="s", size=len(text),
        mtime=0.0, status="indexed", version=version, chunks=chunks, text=text, pages=pages,
        warnings=[],
    )  # fmt: skip
    return chunks


def test_chunks_on_ocr_pages_say_so_and_removal_clears_the_flags(tmp_path: Path) -> None:
    m = Manifest(tmp_path / "manifest.sqlite3")
    commit(m, "fax", {2})
    commit(m, "typed", set())
    rows = m.live_chunks(["fax:1", "fax:2", "typed:2"])
    assert {cid: row.chunk.ocr for cid, row in rows.items()} == {
        "fax:1": False, "fax:2": True, "typed:2": False,
    }  # fmt: skip
    assert [c.ocr for c in m.document_chunks("fax")] == [False, True]
    commit(m, "fax", set())  # a new version without OCR pages (say, a text layer was added)
    assert not m.chunk("fax:2").chunk.ocr  # type: ignore[union-attr]
    commit(m, "fax", {1, 2})
    assert m.remove_document("fax")
    count = m._read("SELECT COUNT(*) FROM ocr_pages")[0][0]
    assert count == 0
    m.close()


def test_an_index_older_than_the_flag_reads_read_only(tmp_path: Path) -> None:
    path = tmp_path / "manifest.sqlite3"
    m = Manifest(path)
    commit(m, "old", set())
    m.close()
    with sqlite3.connect(path) as conn:  # as an index written before OCR existed
        conn.execute("DROP TABLE ocr_pages")
    reader = Manifest(path, read_only=True)
    row = reader.chunk("old:2")
    assert row is not None and row.chunk.text == TEXTS[1] and not row.chunk.ocr
    reader.close()
    writer = Manifest(path)  # the first writable open adds the table
    assert writer.chunk("old:2") is not None
    commit(writer, "old", {2})
    assert writer.chunk("old:2").chunk.ocr  # type: ignore[union-attr]
    writer.close()
