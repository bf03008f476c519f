"""The review checklist: a list of questions asked of a workspace (or of each of its documents),
and the review table a lawyer or clinician reads and exports: question, document, answer,
evidence quote, where it stands, whether it is supported, confidence.

`run_checklist` runs on the caller's thread, on one model load (the engines stay loaded between
questions); it yields one row per question (per document with `per_document`) as it goes, so a
caller can show progress and stop. `write_table` writes the rows as CSV or self-contained HTML.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from app.chat.types import AskOptions, ChatAnswer
from app.errors import EnclaveError

if TYPE_CHECKING:
    from app.chat.service import ChatService
    from app.library.workspaces import Workspace
    from models.types import CancelToken
    from rag.index_types import DocumentIndex

__all__ = ["MACHINE_MADE", "ReviewRow", "read_questions", "run_checklist", "write_table"]

TableFormat = Literal["csv", "html"]
MACHINE_MADE = (
    "Machine-made by Enclave from your documents: check each answer against its quote before "
    "relying on it."
)


@dataclass(frozen=True)
class ReviewRow:
    question: str
    document: str  # the document asked about, or "" for the whole workspace
    answer: ChatAnswer

    def cells(self) -> list[str]:
        a = self.answer
        first = a.evidence[0] if a.evidence else None
        return [
            self.question,
            self.document or (first.document if first else ""),
            a.answer,
            " ".join(first.quote.split()) if first else "",
            first.where() if first else "",
            "not found" if a.not_found else ("yes" if a.citations else "no"),
            "" if a.route.confidence is None or a.not_found else f"{a.route.confidence:.2f}",
        ]

    def to_json(self) -> dict[str, object]:
        data = {"question": self.question, **self.answer.to_json()}
        if self.document:
            data["document"] = self.document
        return data


HEADER = ["Question", "Document", "Answer", "Evidence", "Where", "Supported", "Confidence"]


def read_questions(path: Path) -> list[str]:
    """One question per line; blank lines and lines starting with '#' are left out."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise EnclaveError(f"The questions file {path} cannot be read ({exc.strerror}).") from None
    except UnicodeDecodeError:
        raise EnclaveError(f"The questions file {path} is not UTF-8 text.") from None
    questions = [line.strip() for line in text.splitlines()]
    questions = [q for q in questions if q and not q.startswith("#")]
    if not questions:
        raise EnclaveError(f"The questions file {path} holds no question (one per line).")
    return questions


def run_checklist(
    chat: ChatService,
    index: DocumentIndex,
    workspace: Workspace,
    questions: Sequence[str],
    *,
    per_document: bool = False,
    documents: Sequence[str] = (),
    cancel: CancelToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[ReviewRow]:
    """Ask every question (of every document, with `per_document`), in order."""
    if per_document:
        names = list(documents) or [
            d.name for d in index.documents() if d.status in ("indexed", "indexed_with_warnings")
        ]
        if not names:
            raise EnclaveError("This workspace has no indexed document to ask about.")
        jobs = [(q, name) for name in names for q in questions]
    else:
        jobs = [(q, "") for q in questions]
    for done, (question, name) in enumerate(jobs):
        if cancel is not None and cancel.cancelled:
            return
        if progress is not None:
            progress(done, len(jobs))
        scope = (name,) if name else tuple(documents)
        answer = _final(chat.ask(workspace, question, AskOptions(documents=scope), cancel=cancel))
        yield ReviewRow(question, name, answer)
    if progress is not None:
        progress(len(jobs), len(jobs))


def _final(events: Iterator[object]) -> ChatAnswer:
    result = None
    for event in events:
        if isinstance(event, ChatAnswer):
            result = event
    if result is None:
        raise EnclaveError("The question ended without an answer.")
    return result


def write_table(rows: Sequence[ReviewRow], fmt: TableFormat, title: str) -> str:
    """The review table as CSV or as one self-contained HTML file (no scripts, no links out)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([f"# {MACHINE_MADE}"])
        writer.writerow(HEADER)
        writer.writerows(row.cells() for row in rows)
        return out.getvalue()
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row.cells()) + "</tr>"
        for row in rows
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>body{{font:14px sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "vertical-align:top;text-align:left}td:nth-child(4){font-style:italic}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(MACHINE_MADE)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )
