"""app.frontier.minimum and app.frontier.subject: a frontier request carries only the passages
that answer, and never a passage of a document that names another patient or client.

Fast unit tests: a small in-memory index (lexical search, real chunk ids) and the real evidence
scoring (app.chat.retrieval.look_up, without the embedder). The same rule against the real
index, embedder and server: tests/integration/test_frontier_llama_server.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.chat.retrieval import Lookup, look_up, resolve_documents
from app.frontier.minimum import NOT_ANSWERING, UNREADABLE, choose_passages, learn, why_left_out
from app.frontier.request import LeftOut
from app.frontier.subject import People, document_people, question_subject
from rag.types import Chunk, DocumentRecord, Hit
from tests.frontier_notes import NOTES, QUESTION, SUBJECT_NOTE

LOPEZ, TREHARNE, CASTILLO = list(NOTES)


@dataclass
class MemoryIndex:
    """Documents split into chunks numbered as rag.index numbers them; lexical search."""

    docs: dict[str, list[str]]  # name -> chunk texts
    missing: set[str] = field(default_factory=set)  # chunk ids that cannot be read

    def _chunks(self, name: str) -> list[Chunk]:
        out, pos = [], 0
        for seq, text in enumerate(self.docs[name]):
            out.append(Chunk(f"{name}-v1-{seq:05d}", name, 1, pos, pos + len(text), text))
            pos += len(text)
        return out

    def _hit(self, chunk: Chunk, score: float) -> Hit:
        return Hit(chunk, chunk.document_id, f"/docs/{chunk.document_id}", score, 0.9, 1)

    def search(
        self, query: str, k: int = 5, mode: str = "hybrid", documents: Sequence[str] | None = None
    ) -> list[Hit]:
        words = set(re.findall(r"\w+", query.lower()))
        scored = []
        for name in self.docs:
            if documents is not None and name not in documents:
                continue
            for chunk in self._chunks(name):
                score = len(words & set(re.findall(r"\w+", chunk.text.lower())))
                if score:
                    scored.append((score, chunk))
        scored.sort(key=lambda sc: -sc[0])
        return [self._hit(c, float(s)) for s, c in scored[:k]]

    def openings(self, documents: Sequence[str] | None = None) -> list[Hit]:
        names = list(documents) if documents is not None else list(self.docs)
        return [self._hit(self._chunks(n)[0], 0.0) for n in names if n in self.docs]

    def chunk(self, chunk_id: str) -> Chunk:
        if chunk_id in self.missing:
            raise KeyError(chunk_id)
        for name in self.docs:
            for chunk in self._chunks(name):
                if chunk.id == chunk_id:
                    return chunk
        raise KeyError(chunk_id)

    def documents(self) -> list[DocumentRecord]:
        return [self.document(n) for n in self.docs]  # type: ignore[misc]

    def document(self, doc_id: str) -> DocumentRecord | None:
        if doc_id not in self.docs:
            return None
        n = len(self.docs[doc_id])
        return DocumentRecord(doc_id, doc_id, f"/docs/{doc_id}", "0", "indexed", n, 1, "", [], "")

    def line_of(self, doc_id: str, offset: int) -> int:
        return 1


class LexicalChat:
    """ChatService's two look-ups, on the memory index, with the real evidence scoring."""

    def __init__(self, index: MemoryIndex) -> None:
        self.index = index

    def relevant_sources(
        self, workspace: Any, question: str, k: int, documents: tuple[str, ...] = ()
    ) -> list[Hit]:
        ids = resolve_documents(self.index, documents) if documents else None  # type: ignore[arg-type]
        return self.index.search(question, k=k, documents=ids)

    def look_up(
        self, workspace: Any, question: str, k: int, documents: tuple[str, ...] = ()
    ) -> Lookup:
        ids = resolve_documents(self.index, documents) if documents else None  # type: ignore[arg-type]
        return look_up(self.index, question, k, None, documents=ids)  # type: ignore[arg-type]


def _choose(index: MemoryIndex, question: str, documents: Sequence[str] = ()) -> Any:
    return choose_passages(LexicalChat(index), index, None, question, 4, documents)  # type: ignore[arg-type]


def _notes(**extra: list[str]) -> MemoryIndex:
    docs = {name: [text] for name, text in NOTES.items()}
    docs.update(extra)
    return MemoryIndex(docs)


def _sent_docs(chosen: Any) -> set[str]:
    return {h.chunk.document_id for h in chosen.sources}


# -- whom a question and a document are about -------------------------------------------------
def test_a_documents_people_are_its_patients_not_the_clinicians_it_mentions() -> None:
    lopez = document_people(NOTES[LOPEZ] + "Attending: Daniel Whitcombe, MD\nSeen by Dr Okafor.")
    assert lopez.names == (frozenset({"maria", "lopez"}),) and lopez.records == {"00482913"}
    treharne = document_people(NOTES[TREHARNE])
    assert frozenset({"will", "treharne"}) in treharne.names and "K4471923" in treharne.records
    castillo = document_people(NOTES[CASTILLO])
    assert castillo.names == (frozenset({"hope", "castillo"}),)  # lowercase, after its label
    assert castillo.records == {"7719024"}


def test_the_question_names_its_subject_by_name_or_number() -> None:
    assert question_subject(QUESTION).names == (frozenset({"maria", "lopez"}),)
    assert "00482913" in question_subject("What is the plan for MRN 00482913?").records
    assert not question_subject("What dose of metformin is the patient taking?")


def test_another_patients_record_is_left_out_and_the_subjects_kept() -> None:
    subject = learn(question_subject(QUESTION), [document_people(t) for t in NOTES.values()])
    assert subject.records == {"00482913"}  # her record's number, learnt from her note
    assert why_left_out(NOTES[LOPEZ], document_people(NOTES[LOPEZ]), subject) is None
    for other in (TREHARNE, CASTILLO):
        reason = why_left_out(NOTES[other], document_people(NOTES[other]), subject)
        assert reason == "names another patient"
    guideline = "Metformin: start at 500 mg once daily and titrate to 1000 mg twice daily."
    assert why_left_out(guideline, document_people(guideline), subject) == (
        "not about the person asked about"
    )
    client = question_subject("What did our client Ana Ruiz sign?")
    letter = "Client: Jonas Berg\nRe: lease dispute"
    assert why_left_out(letter, document_people(letter), client) == "names another client"
    assert why_left_out(None, None, subject) == UNREADABLE


# -- the passages chosen ----------------------------------------------------------------------
def test_a_question_about_one_patient_carries_only_that_patients_answering_passage() -> None:
    chosen = _choose(_notes(), QUESTION)
    assert _sent_docs(chosen) == {SUBJECT_NOTE}
    assert "metformin 500 mg twice daily" in chosen.sources[0].chunk.text
    lines = {item.line() for item in chosen.left_out}
    assert lines == {
        f"left out: {TREHARNE}, names another patient",
        f"left out: {CASTILLO}, names another patient",
    }


def test_a_question_by_record_number_finds_the_record_and_leaves_the_others_out() -> None:
    chosen = _choose(_notes(), "What dose of metformin is MRN 00482913 taking?")
    assert _sent_docs(chosen) == {SUBJECT_NOTE}
    assert {i.document for i in chosen.left_out} == {TREHARNE, CASTILLO}
    assert frozenset({"maria", "lopez"}) in chosen.subject.names  # learnt from the record


def test_a_document_that_also_names_another_patient_is_left_out_whole() -> None:
    ward = ["WARD LIST\nBed 1: Maria Lopez, on metformin 500 mg twice daily.\n",
            "Bed 2 is free. Bed 3: patient Will Treharne, metformin dose unchanged.\n"]  # fmt: skip
    chosen = _choose(_notes(**{"ward_list.txt": ward}), QUESTION)
    assert "ward_list.txt" not in _sent_docs(chosen)
    assert any(i.document == "ward_list.txt" and i.reason == "names another patient"
               for i in chosen.left_out)  # fmt: skip


def test_a_document_is_read_whole_not_only_the_passages_found() -> None:
    # Its passage about metformin names no one; its last chunk, never found, names the patient.
    note = ["She takes metformin 250 mg at night for Maria Lopez's sister.\n",
            "Unrelated.\n", "Patient: Carlos Vega   MRN: 5566778\n"]  # fmt: skip
    index = _notes(**{"vega.txt": note})
    chosen = _choose(index, QUESTION)
    assert "vega.txt" not in _sent_docs(chosen)
    assert any(i.document == "vega.txt" for i in chosen.left_out)
    index.missing.add("vega.txt-v1-00002")  # a chunk that cannot be read: not sent either
    chosen = _choose(index, QUESTION)
    assert ("vega.txt", UNREADABLE) in {(i.document, i.reason) for i in chosen.left_out}


def test_a_picked_document_is_the_subject() -> None:
    chosen = _choose(_notes(), "What dose of metformin does he take each day?", [TREHARNE])
    assert _sent_docs(chosen) == {TREHARNE}
    assert "metformin 1000 mg" in chosen.sources[0].chunk.text


def test_a_question_naming_no_one_is_answered_from_one_patients_records_only() -> None:
    # Two notes answer (850 mg and 500 mg); the best one's patient is the subject.
    chosen = _choose(_notes(), "What dose of metformin is taken three times daily?")
    assert _sent_docs(chosen) == {CASTILLO}
    assert {(i.document, i.reason) for i in chosen.left_out} == {
        (LOPEZ, "names another patient"),
        (TREHARNE, NOT_ANSWERING),
    }


def test_passages_that_do_not_answer_are_left_out() -> None:
    note = [NOTES[LOPEZ], "Maria Lopez enjoys gardening and lives with her husband.\n"]
    chosen = _choose(_notes(**{LOPEZ: note}), QUESTION)
    assert [h.chunk.id for h in chosen.sources] == [f"{LOPEZ}-v1-00000"]
    # the note names metformin but says nothing of a brand: no passage of it answers
    nothing = _choose(_notes(), "What metformin brand is preferred?", [TREHARNE])
    assert nothing.sources == []
    assert nothing.left_out == [LeftOut(TREHARNE, NOT_ANSWERING)]


@pytest.mark.parametrize("people", [People(), People(names=(frozenset({"x"}),))])
def test_people_is_true_only_when_it_names_someone(people: People) -> None:
    assert bool(people) == bool(people.names or people.records)


def test_a_contracts_signatories_are_not_its_clients() -> None:
    contract = (
        "DISTRIBUTION AGREEMENT\nJohn Smith shall distribute the products in Texas.\n"
        "By: ________\nName: John Smith\nTitle: CEO\n\nBy: ________\nName: Jane Doe\n"
        "Title: CFO\n"
    )
    people = document_people(contract)
    assert people.names == ()
    subject = question_subject("Does John Smith distribute the products in Texas?")
    assert why_left_out(contract, people, subject) is None


def test_a_detector_that_fails_stops_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.frontier import subject

    def broken(text: str) -> list[object]:
        raise RuntimeError("a rule bug")

    monkeypatch.setattr(subject, "detect", broken)
    with pytest.raises(subject.SubjectCheckFailed, match="nothing was sent"):
        _choose(_notes(), QUESTION)


def test_a_question_naming_no_one_keeps_documents_that_name_no_one() -> None:
    from app.frontier.minimum import Chosen, _one_subject

    guideline = ["Metformin: the usual dose is 500 mg to 1000 mg twice daily with meals.\n"]
    index = _notes(**{"guideline.txt": guideline})
    hits = [index.openings([name])[0] for name in (CASTILLO, "guideline.txt", LOPEZ)]
    chosen = _one_subject(index, Chosen(hits))  # type: ignore[arg-type]
    assert _sent_docs(chosen) == {CASTILLO, "guideline.txt"}
    assert chosen.left_out == [LeftOut(LOPEZ, "names another patient")]


def test_a_picked_document_that_names_no_one_is_asked_about_as_it_is() -> None:
    guideline = ["Metformin dosing: take metformin 500 mg twice daily with meals at first.\n"]
    index = _notes(**{"guideline.txt": guideline})
    chosen = _choose(index, "What dose of metformin is taken at first?", ["guideline.txt"])
    assert _sent_docs(chosen) == {"guideline.txt"}
