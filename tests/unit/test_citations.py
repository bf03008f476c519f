from __future__ import annotations

from rag.citations import build_citations, cited_numbers, verify_quote
from rag.types import Chunk, Hit

DOC = (
    "This Agreement is made between Acme Corp and Beta LLC. "
    "This Agreement shall be governed by the laws of the State of Delaware. "
    "Either party may terminate this Agreement for convenience on 30 days written notice."
)
SPLIT = DOC.index("This Agreement shall")


def hit(start: int, end: int, n: int = 0) -> Hit:
    chunk = Chunk(f"d:{n}", "d", page=2, start=start, end=end, text=DOC[start:end])
    return Hit(chunk, "contract.pdf", "/m/contract.pdf", score=1.0, dense_similarity=0.7)


def test_cited_numbers_in_order_and_in_range() -> None:
    assert cited_numbers("A [2]. B [1, 2]. C [7].", 3) == [2, 1]


def test_marker_gets_the_supporting_sentence_verbatim() -> None:
    sources = [hit(0, SPLIT, 0), hit(SPLIT, len(DOC), 1)]
    answer = "The agreement is governed by Delaware law [2]."
    (cite,) = build_citations(answer, sources)
    assert cite.n == 2 and cite.verified and cite.page == 2
    assert cite.quote == "This Agreement shall be governed by the laws of the State of Delaware."
    assert DOC[cite.start : cite.end] == cite.quote
    assert verify_quote(DOC, cite)


def test_explicit_quote_is_used_only_when_verbatim() -> None:
    sources = [hit(0, len(DOC))]
    good = 'It says "terminate this Agreement for convenience on 30 days" [1].'
    (cite,) = build_citations(good, sources)
    assert cite.quote == "terminate this Agreement for convenience on 30 days"
    invented = 'It says "may end the contract whenever it likes at no cost" [1].'
    (cite,) = build_citations(invented, sources)
    assert "whenever it likes" not in cite.quote  # an invented quote is never shown
    assert cite.quote == "" or cite.quote in DOC


def test_unsupported_marker_is_cited_without_a_quote() -> None:
    (cite,) = build_citations("Penguins are birds [1].", [hit(0, SPLIT)])
    assert not cite.verified and cite.quote == ""


def test_without_markers_supporting_sources_are_cited() -> None:
    sources = [hit(0, SPLIT, 0), hit(SPLIT, len(DOC), 1)]
    cites = build_citations(
        "Either party may terminate for convenience with 30 days notice.", sources
    )
    assert [c.n for c in cites] == [2]
    assert cites[0].quote.startswith("Either party may terminate")
    assert build_citations("Nothing related at all.", sources) == []
