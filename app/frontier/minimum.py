"""Minimum necessary: the passages a frontier request carries, and what is left out and why.

1. Whom the question is about (app.frontier.subject): the people and record numbers in it, or
   else the people of the documents picked with `--document`.
2. When it names someone, each document the search finds is read whole, and it is left out if
   it names another patient or client (in a field such as "Patient:", by a record number, ...)
   or does not name the one asked about at all. A passage of such a document is never sent.
3. Of the documents that remain, only the passages that answer the question are sent: the
   evidence that local answers use (app.chat.retrieval, rag.evidence), at least
   NOT_FOUND_BELOW. Everything else found is listed as left out, with the reason, for review.
4. A question that names no one, answered from several documents, is taken to be about the
   person of the best evidence's document: the others' passages are left out as in 2.

Runs on the caller's thread (a CLI main thread or a UI worker); the index may live in another
process (the desktop's worker), so a document is read through the index's own calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.chat.retrieval import EVIDENCE_DEPTH, Lookup, resolve_documents
from app.frontier.request import LeftOut
from app.frontier.subject import People, document_people, mentions, question_subject
from rag.evidence import NOT_FOUND_BELOW

if TYPE_CHECKING:
    from app.chat.service import ChatService
    from app.library.workspaces import Workspace
    from rag.evidence import Evidence
    from rag.index_types import DocumentIndex
    from rag.types import Hit

__all__ = ["Chosen", "choose_passages", "document_text", "passages_that_answer", "why_left_out"]

NOT_ANSWERING = "no passage of it answers the question"
NOT_ABOUT = "not about the person asked about"
UNREADABLE = "could not be read whole to check whom it is about"


@dataclass(frozen=True)
class Chosen:
    sources: list[Hit]  # to send, best first
    left_out: list[LeftOut] = field(default_factory=list)
    subject: People = field(default_factory=People)
    # The evidence in the passages sent (best first) and its lines: the frontier's answer is
    # checked against it like a local one (app.chat.answer.compose).
    evidence: list[tuple[Evidence, int | None]] = field(default_factory=list)

    def keeping(self, sources: list[Hit], left_out: list[LeftOut], subject: People) -> Chosen:
        """The same choice narrowed to `sources`, with the evidence they still hold."""
        ids = {h.chunk.id for h in sources}
        kept = [(ev, line) for ev, line in self.evidence if ev.hit.chunk.id in ids]
        return Chosen(sources, left_out, subject, kept)


def choose_passages(
    chat: ChatService,
    index: DocumentIndex,
    workspace: Workspace,
    question: str,
    k: int,
    documents: Sequence[str] = (),
) -> Chosen:
    """The passages to send for `question` (see the module docstring)."""
    picked = tuple(documents)
    subject = question_subject(question)
    picked_ids = resolve_documents(index, picked) if picked else []
    texts = {doc: document_text(index, doc) for doc in picked_ids}
    people = {doc: document_people(t) for doc, t in texts.items() if t is not None}
    if not subject:  # the people of the documents picked, if they name anyone
        for doc in picked_ids:
            subject = subject.joined(people.get(doc, People()))
    if not subject:  # names no one: the best evidence's document does
        return _one_subject(
            index, _chosen(chat.look_up(workspace, question, k, picked), [], {}, [], subject)
        )
    found = chat.relevant_sources(workspace, question, max(k, EVIDENCE_DEPTH), picked)
    names = {h.chunk.document_id: h.document_name for h in found}
    order = list(names)
    for doc in order:
        if doc not in texts:
            text = texts[doc] = document_text(index, doc)
            if text is not None:
                people[doc] = document_people(text)
    subject = learn(subject, people.values())
    left: list[LeftOut] = []
    keep: list[str] = []
    for doc in order:
        reason = why_left_out(texts[doc], people.get(doc), subject)
        if reason is None:
            keep.append(doc)
        else:
            left.append(LeftOut(names[doc], reason))
    if not keep:
        return Chosen([], left, subject)
    lookup = chat.look_up(workspace, question, k, tuple(keep))
    return _chosen(lookup, keep, names, left, subject)


def _chosen(
    lookup: Lookup, order: list[str], names: dict[str, str], left: list[LeftOut], subject: People
) -> Chosen:
    sources = passages_that_answer(lookup)
    sent = {h.chunk.document_id for h in sources}
    for hit in lookup.sources:
        names.setdefault(hit.chunk.document_id, hit.document_name)
    seen = dict.fromkeys([*order, *(h.chunk.document_id for h in lookup.sources)])
    left_docs = {item.document for item in left}
    for doc in seen:
        if doc not in sent and names[doc] not in left_docs:
            left.append(LeftOut(names[doc], NOT_ANSWERING))
    ids = {h.chunk.id for h in sources}
    evidence = [
        (ev, line)
        for ev, line in zip(lookup.evidence, lookup.lines, strict=True)
        if ev.hit.chunk.id in ids and ev.score >= NOT_FOUND_BELOW
    ]
    return Chosen(sources, left, subject, evidence)


def _one_subject(index: DocumentIndex, chosen: Chosen) -> Chosen:
    """A question that names no one, answered from several documents: only the passages of
    the documents about the person of the best one's (never two patients' records at once)."""
    docs = list(dict.fromkeys(h.chunk.document_id for h in chosen.sources))
    if len(docs) < 2:
        return chosen
    texts = {doc: document_text(index, doc) for doc in docs}
    people = {doc: document_people(t) for doc, t in texts.items() if t is not None}
    subject = people.get(docs[0], People())
    if not subject:
        return chosen
    keep: list[Hit] = []
    left = list(chosen.left_out)
    for doc in docs:
        reason = None if doc == docs[0] else why_left_out(texts[doc], people.get(doc), subject)
        if reason == NOT_ABOUT:  # it names no one: harmless for a question about no one
            reason = None
        hits = [h for h in chosen.sources if h.chunk.document_id == doc]
        if reason is None:
            keep += hits
        else:
            left.append(LeftOut(hits[0].document_name, reason))
    return chosen.keeping(keep, left, subject)


def passages_that_answer(lookup: Lookup) -> list[Hit]:
    """The passages holding the evidence (and each document's, when documents differ) that
    scores at least NOT_FOUND_BELOW, best first, each once."""
    out: list[Hit] = []
    for ev in [*lookup.evidence, *(ev for ev, _ in lookup.several)]:
        if ev.score >= NOT_FOUND_BELOW and all(ev.hit.chunk.id != h.chunk.id for h in out):
            out.append(ev.hit)
    return out


def learn(subject: People, documents: Iterable[People]) -> People:
    """What the documents tell about the subject: the name on the record whose number the
    question gave, and the numbers on the records of the person the question named."""
    docs = list(documents)
    names = list(subject.names)
    records = set(subject.records)
    if not names:
        for p in docs:
            if p.records & records and p.names and p.one_person():
                names += [n for n in p.names if n not in names]
    known = People(tuple(names), frozenset(records), subject.role)
    for p in docs:
        if p.names and all(known.knows(n) for n in p.names):
            records |= p.records
    return People(tuple(names), frozenset(records), subject.role)


def why_left_out(text: str | None, people: People | None, subject: People) -> str | None:
    """Why a document may not be sent for a question about `subject`; None when it may."""
    if text is None or people is None:
        return UNREADABLE
    role = people.role if people.role == "client" else subject.role
    if any(not subject.knows(n) for n in people.names) or people.records - subject.records:
        return f"names another {role}"
    if not mentions(text, subject):
        return NOT_ABOUT
    return None


def document_text(index: DocumentIndex, doc_id: str) -> str | None:
    """A document's whole indexed text, read chunk by chunk through the index (its chunks are
    numbered "<document>-v<version>-<seq>", rag.index); None when it cannot be read whole."""
    opening = index.openings([doc_id])
    record = index.document(doc_id)
    if not opening or record is None:
        return None
    first = opening[0].chunk
    prefix, _, seq = first.id.rpartition("-")
    texts = [first.text]
    if record.chunk_count > 1:
        if not (prefix and seq.isdigit()):
            return None
        for n in range(int(seq) + 1, int(seq) + record.chunk_count):
            try:
                texts.append(index.chunk(f"{prefix}-{n:0{len(seq)}d}").text)
            except KeyError:
                return None
    return "\n".join(texts)
