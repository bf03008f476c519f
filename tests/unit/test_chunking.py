"""Chunking: invariants on many random documents, plus the boundary preferences."""

from __future__ import annotations

import itertools
import random

import pytest

from rag.chunking import DEFAULT_OVERLAP_CHARS, DEFAULT_TARGET_CHARS, chunk_document
from rag.parsers import join_pages, single_page
from rag.types import Chunk, Page, ParsedDocument

WORDS = (
    "the patient agreement shall Party Dr. U.S. e.g. 3. clause (a) indemnify 1,200 € café "
    "Größe naïve “quoted” — ‘x’ 12.5 mg/kg § 4.2 supercalifragilisticexpialidocious"
).split()


def random_text(rng: random.Random, n_chars: int) -> str:
    parts: list[str] = []
    size = 0
    while size < n_chars:
        roll = rng.random()
        if roll < 0.70:
            piece = rng.choice(WORDS)
        elif roll < 0.80:
            piece = rng.choice([".", "!", "?", ";", ":", ","]) + rng.choice(["", "”", ")"])
        elif roll < 0.86:
            piece = rng.choice(["\n", "\n\n", "\r\n", "\n \n", "\t", "   "])
        elif roll < 0.88:
            piece = "x" * rng.randint(1, 400)  # a long run without spaces
        elif roll < 0.89:
            piece = " " * rng.randint(1, 300)  # a long run of spaces
        else:
            piece = rng.choice(["Term", "The", "A", "1", "(b)", "“Notice"])
        parts.append(piece)
        parts.append(rng.choice([" ", " ", " ", ""]))
        size += len(piece) + 1
    return "".join(parts)[:n_chars]


def random_document(rng: random.Random) -> ParsedDocument:
    pages = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        if kind < 0.1:
            pages.append("")
        elif kind < 0.15:
            pages.append(" \n\t ")
        else:
            pages.append(random_text(rng, rng.choice([5, 50, 300, 900, 2500, 7000])))
    return join_pages(pages) if len(pages) > 1 or rng.random() < 0.5 else single_page(pages[0])


def check_invariants(parsed: ParsedDocument, chunks: list[Chunk], target: int) -> None:
    text = parsed.text
    assert [c.id for c in chunks] == [f"doc:{i}" for i in range(len(chunks))]
    covered = [False] * len(text)
    for chunk in chunks:
        assert chunk.document_id == "doc"
        assert chunk.text == text[chunk.start : chunk.end]  # ALWAYS
        assert chunk.text.strip(), "whitespace-only chunk"
        assert not chunk.text[0].isspace() and not chunk.text[-1].isspace()
        assert len(chunk.text) <= target
        [page] = [p for p in parsed.pages if p.number == chunk.page]
        assert page.start <= chunk.start < chunk.end <= page.end  # never crosses a page
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    assert [c.page for c in chunks] == sorted(c.page for c in chunks)
    for page in parsed.pages:  # nothing is lost: every non-space character is in a chunk
        for i in range(page.start, page.end):
            assert covered[i] or text[i].isspace(), f"char {i} {text[i]!r} of page {page.number}"


@pytest.mark.parametrize("seed", range(400))
def test_random_documents_keep_every_invariant(seed: int) -> None:
    rng = random.Random(seed)
    parsed = random_document(rng)
    target = rng.choice([20, 60, 200, 800, 1000, 1500])
    overlap = rng.randint(0, target // 2 - 1)
    chunks = chunk_document("doc", parsed, target_chars=target, overlap_chars=overlap)
    check_invariants(parsed, chunks, target)
    again = chunk_document("doc", parsed, target_chars=target, overlap_chars=overlap)
    assert again == chunks  # deterministic


def test_defaults_are_sized_for_minilm() -> None:
    assert (DEFAULT_TARGET_CHARS, DEFAULT_OVERLAP_CHARS) == (800, 120)
    rng = random.Random(7)
    parsed = single_page(random_text(rng, 20_000))
    check_invariants(parsed, chunk_document("doc", parsed), DEFAULT_TARGET_CHARS)


def test_short_page_is_one_chunk_without_surrounding_space() -> None:
    parsed = single_page("\n\n  Only a short note.  \n")
    [chunk] = chunk_document("doc", parsed)
    assert (chunk.text, chunk.start, chunk.page, chunk.id) == ("Only a short note.", 4, 1, "doc:0")


def test_no_text_no_chunks() -> None:
    assert chunk_document("doc", ParsedDocument("", [Page(1, 0, 0)])) == []
    assert chunk_document("doc", join_pages(["  ", "\n\n"])) == []


def test_chunks_never_cross_pages_even_when_pages_are_short() -> None:
    parsed = join_pages(["Page one ends here", "", "Page three starts", "Four."])
    chunks = chunk_document("doc", parsed, target_chars=1000)
    assert [(c.page, c.text) for c in chunks] == [
        (1, "Page one ends here"),
        (3, "Page three starts"),
        (4, "Four."),
    ]


def test_prefers_a_paragraph_break() -> None:
    first = "First paragraph sentence one. Sentence two is here. " * 5
    second = "Second paragraph goes on. And on. " * 10
    parsed = single_page(first.strip() + "\n\n" + second.strip())
    chunks = chunk_document("doc", parsed, target_chars=400, overlap_chars=0)
    assert chunks[0].text == first.strip()


def test_prefers_a_sentence_end_over_a_space() -> None:
    sentence = "The tenant shall pay the rent on the first day of every month. "
    parsed = single_page(sentence * 12)
    chunks = chunk_document("doc", parsed, target_chars=300, overlap_chars=0)
    for chunk in chunks:
        assert chunk.text.endswith("month.")
        assert chunk.text.startswith("The tenant")


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = "word " * 30 + "It was signed. Seen by Dr. Smith and Mr. Jones of the U.S. Army"
    parsed = single_page(text + " today" * 40)
    first = chunk_document("doc", parsed, target_chars=250, overlap_chars=0)[0]
    assert first.text.endswith("It was signed.")
    # Each phrase is the only sentence-like end in the window; without the abbreviation rules
    # the chunk would end right after its marker, with them it ends at the last space.
    for phrase, marker in [
        ("J. Smith signed", "J."),
        ("see e.g. Clause", "e.g."),
        ("No. 5 applies", "No."),
        ("\n3. Term", "3."),
    ]:
        parsed = single_page("x" * 150 + " " + phrase + " y" * 100)
        first = chunk_document("doc", parsed, target_chars=250, overlap_chars=0)[0]
        assert not first.text.endswith(marker), phrase
        assert first.text.endswith((" y", "x"))  # the last space or line break


def test_overlap_restarts_at_a_sentence_start() -> None:
    sentences = [f"Clause {i} binds the parties until termination." for i in range(40)]
    parsed = single_page(" ".join(sentences))
    chunks = chunk_document("doc", parsed, target_chars=300, overlap_chars=120)
    assert len(chunks) > 3
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start < prev.end  # they overlap
        assert nxt.text.startswith("Clause ")  # at a sentence start


def test_a_long_run_without_spaces_is_cut_hard() -> None:
    parsed = single_page("A" * 2500)
    chunks = chunk_document("doc", parsed, target_chars=1000, overlap_chars=0)
    assert [len(c.text) for c in chunks] == [1000, 1000, 500]


@pytest.mark.parametrize(("target", "overlap"), [(10, 0), (100, 50), (100, -1)])
def test_bad_sizes_are_refused(target: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_document("doc", single_page("text"), target_chars=target, overlap_chars=overlap)
