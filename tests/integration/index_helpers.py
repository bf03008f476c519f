"""Shared material for the workspace-index tests: a small clinical/legal corpus, a document
builder and a paragraph chunker (so the index can be tested apart from rag.chunking)."""

from __future__ import annotations

import re
from pathlib import Path

from rag.types import Chunk, Page, ParsedDocument

CORPUS: dict[str, list[str]] = {
    "cardiology-note.txt": [
        "Discharge summary. The patient is a 67-year-old man admitted with atrial fibrillation "
        "and a rapid ventricular response.\n\n"
        "Rate control was achieved with metoprolol tartrate 25 mg twice daily. Anticoagulation "
        "with apixaban 5 mg twice daily was started after a CHA2DS2-VASc score of 4.",
        "Follow-up: an echocardiogram in six weeks and a Holter monitor if palpitations recur.\n\n"
        "The patient was advised to avoid alcohol and to report any bleeding or black stools.",
    ],
    "oncology-letter.txt": [
        "Dear colleague, thank you for referring this 54-year-old woman with HER2-positive breast "
        "cancer.\n\n"
        "We recommend trastuzumab with paclitaxel weekly for twelve weeks, followed by "
        "trastuzumab alone to complete one year of treatment.",
        "Cardiac function should be monitored every three months because trastuzumab can cause "
        "cardiomyopathy.\n\n"
        "Her left ventricular ejection fraction at baseline was 62 percent.",
    ],
    "lease-agreement.txt": [
        "This commercial lease is made between Harbor Properties LLC (the Landlord) and Blue "
        "Finch Bakery Inc. (the Tenant).\n\n"
        "The Tenant shall pay a monthly base rent of 4,500 dollars on the first day of each "
        "month, with a late fee of five percent after ten days.",
        "Either party may terminate this lease with ninety days written notice after the first "
        "anniversary.\n\n"
        "This lease is governed by the laws of the State of Oregon.",
    ],
    "court-order.txt": [
        "United States District Court for the Central District of California. Case No. "
        "2:19-cv-04417. Order granting the motion to dismiss.\n\n"
        "The plaintiff failed to allege facts showing that the defendant knew of the defect at "
        "the time of sale.",
        "The complaint is dismissed with leave to amend within twenty-one days of this order.",
    ],
    "court-minutes.txt": [
        "Civil minutes, Case No. 3:21-cv-00873. The court heard argument on the motion to "
        "dismiss and took the matter under submission.\n\n"
        "Counsel for both parties appeared. The scheduling conference is continued to March.",
    ],
    "supply-contract.txt": [
        "Supply agreement between Northwind Medical Devices and Contoso Hospital Group for "
        "infusion pumps.\n\n"
        "Northwind warrants that each pump will be free from defects in materials and "
        "workmanship for twenty-four months from delivery.",
        "Contoso may audit Northwind's quality records once per calendar year on thirty days "
        "notice.\n\n"
        "Neither party shall be liable for indirect or consequential damages.",
    ],
    "garden-diary.txt": [
        "Spring diary. The tomatoes went into the raised beds on the tenth of May, later than "
        "usual because of a cold April.\n\n"
        "I mulched the beds with straw and watered them every evening. A neighbour mentioned "
        "zorvatinib once, while we talked about the rain.",
        "By July the basil had bolted and the courgettes were producing more than we could eat.",
    ],
}


def make_document(pages: list[str]) -> ParsedDocument:
    """Pages joined by a form feed; each Page spans its text."""
    text, spans = "", []
    for number, page in enumerate(pages, start=1):
        if text:
            text += "\f"
        start = len(text)
        text += page
        spans.append(Page(number=number, start=start, end=len(text)))
    return ParsedDocument(text=text, pages=spans)


def paragraph_chunks(document_id: str, parsed: ParsedDocument) -> list[Chunk]:
    """One chunk per paragraph (blank-line separated), with its page and exact offsets."""
    chunks: list[Chunk] = []
    for page in parsed.pages:
        for match in re.finditer(r"[^\n\f]+(?:\n[^\n\f]+)*", parsed.page_text(page)):
            start, end = page.start + match.start(), page.start + match.end()
            chunks.append(
                Chunk(
                    id=f"{document_id}:{len(chunks)}",
                    document_id=document_id,
                    page=page.number,
                    start=start,
                    end=end,
                    text=parsed.text[start:end],
                )
            )
    return chunks


def write_corpus(folder: Path, names: list[str] | None = None) -> list[Path]:
    """Write the corpus (or the named part of it) as UTF-8 .txt files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names or list(CORPUS):
        path = folder / name
        path.write_text("\f".join(CORPUS[name]), encoding="utf-8")
        paths.append(path)
    return paths
