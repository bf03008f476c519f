"""Move a workspace's index from one storage to another (local <-> shared), losing nothing.

`copy_index` writes every document row (indexed or not, with its reason and warnings), every
live passage, the extracted text, the pages and every vector (read back from the source store,
not re-embedded) into an empty destination, then `verify_copy` compares the two, field by field
and vector by vector. The caller removes the source only after verification passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.errors import DocumentError
from rag.manifest import DocumentRow
from rag.storage import ManifestStore, VectorBackend
from rag.types import Chunk, Page

BATCH = 256


class TransferError(DocumentError):
    """The copy is not identical to the source; the source was left as it was."""


class ImportingManifest(ManifestStore, Protocol):
    def import_document(
        self, row: DocumentRow, chunks: Sequence[Chunk], text: str | None, pages: Sequence[Page]
    ) -> None: ...
    def set_version_seq(self, value: int) -> None: ...


@dataclass(frozen=True)
class TransferReport:
    documents: int
    passages: int
    vectors: int


Progress = Callable[[int, int], None]  # (documents done, documents in all)


def copy_index(
    src: ManifestStore,
    src_vectors: VectorBackend,
    dst: ImportingManifest,
    dst_vectors: VectorBackend,
    progress: Progress | None = None,
) -> TransferReport:
    """Copy everything from src into dst (which must be empty), then verify it."""
    if dst.documents() or dst_vectors.count():
        raise TransferError("The destination already holds documents; nothing was copied.")
    name, dimension = src.get_meta("embedder_name"), src.get_meta("embedder_dimension")
    if name is not None and dimension is not None:
        dst.check_embedder(name, int(dimension))
    rows = src.documents()
    for n, row in enumerate(rows, start=1):
        chunks = src.document_chunks(row.id)
        dst.import_document(row, chunks, src.document_text(row.id), src.pages(row.id))
        for lo in range(0, len(chunks), BATCH):
            group = chunks[lo : lo + BATCH]
            vectors = src_vectors.embeddings([c.id for c in group])
            missing = [c.id for c in group if c.id not in vectors]
            if missing:
                raise TransferError(
                    f"{len(missing)} passage(s) of {row.name} have no vector in the source "
                    "index; open the workspace once (it repairs itself), then try again."
                )
            dst_vectors.add(
                [c.id for c in group],
                [vectors[c.id] for c in group],
                [{"document_id": row.id, "version": row.version, "page": c.page} for c in group],
            )
        if progress is not None:
            progress(n, len(rows))
    dst.set_version_seq(int(src.get_meta("version_seq") or 0))
    return verify_copy(src, src_vectors, dst, dst_vectors)


def verify_copy(
    src: ManifestStore, src_vectors: VectorBackend, dst: ManifestStore, dst_vectors: VectorBackend
) -> TransferReport:
    """Raise TransferError unless dst holds exactly what src holds (documents, passages,
    texts, pages, vectors); the counts otherwise."""
    a, b = src.documents(), dst.documents()
    if a != b:
        raise TransferError(
            f"The copy's document list differs ({len(a)} documents here, {len(b)} there)."
        )
    passages = 0
    for row in a:
        chunks = src.document_chunks(row.id)
        if chunks != dst.document_chunks(row.id):
            raise TransferError(f"The passages of {row.name} differ in the copy.")
        if src.document_text(row.id) != dst.document_text(row.id):
            raise TransferError(f"The text of {row.name} differs in the copy.")
        if src.pages(row.id) != dst.pages(row.id):
            raise TransferError(f"The pages of {row.name} differ in the copy.")
        passages += len(chunks)
    ids = src.live_chunk_ids()
    if ids != dst.live_chunk_ids() or len(ids) != passages:
        raise TransferError("The copy's passages differ from the source's.")
    have = dst_vectors.all_ids()
    if have != ids:
        raise TransferError(
            f"The copy holds {len(have)} vectors for {len(ids)} passages; they must match."
        )
    ordered = sorted(ids)
    for lo in range(0, len(ordered), BATCH):
        group = ordered[lo : lo + BATCH]
        x, y = src_vectors.embeddings(group), dst_vectors.embeddings(group)
        for cid in group:
            if not _same_vector(x.get(cid), y.get(cid)):
                raise TransferError("A vector differs in the copy.")
    return TransferReport(documents=len(a), passages=passages, vectors=len(have))


def _same_vector(a: Sequence[float] | None, b: Sequence[float] | None) -> bool:
    if a is None or b is None or len(a) != len(b):
        return False
    return all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-7) for x, y in zip(a, b, strict=True))
