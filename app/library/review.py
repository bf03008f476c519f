"""The review checklist: a list of questions asked of a workspace (or of each of its documents),
and the review table a lawyer or clinician reads and exports: question, document, answer,
evidence quote, where it stands, whether it is supported, confidence.

`run_checklist` runs on the caller's thread, on one model load (the engines stay loaded between
questions); it yields one row per question (per document with `per_document`) as it goes, so a
caller can show progress and stop. `write_table` writes the rows as CSV or self-contained HTML.

`ChecklistStore` keeps a workspace's saved checklists (name -> questions) in `checklists.json`
beside its `workspace.json`, so the window can run one again; it goes with the workspace.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from app.chat.types import AskOptions, ChatAnswer
from app.errors import EnclaveError

if TYPE_CHECKING:
    from app.chat.service import ChatService
    from app.library.workspaces import Workspace
    from models.types import CancelToken
    from rag.index_types import DocumentIndex

__all__ = [
    "MACHINE_MADE",
    "ChecklistStore",
    "ReviewRow",
    "parse_questions",
    "read_questions",
    "run_checklist",
    "write_table",
]

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
            first.shown if first else "",
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


# -- saved checklists -------------------------------------------------------------------------
CHECKLISTS_FILE = "checklists.json"
NAME_MAX = 80


class _Saved(TypedDict):
    questions: list[str]
    saved_at: str


def parse_questions(text: str) -> list[str]:
    """The questions in pasted text, by the file's rules: one a line, blank lines and lines
    starting with '#' left out (an empty list when there is none)."""
    questions = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
    return [q for q in questions if q and not q.startswith("#")]


class ChecklistStore:
    """A workspace's saved checklists: `folder/checklists.json`, `{"version": 1, "checklists":
    {name: {"questions": [...], "saved_at": iso}}}`, written whole to a temporary file and
    renamed (a crash leaves the old file or the new one). A damaged file is never overwritten
    silently: reading it raises EnclaveError in words, and the next save keeps it beside the
    new one as `checklists.json.damaged-<time>`. Names are matched without regard to case.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / CHECKLISTS_FILE

    def names(self) -> list[str]:
        return sorted(self._read(), key=str.casefold)

    def load(self, name: str) -> list[str]:
        entries = self._read()
        key = _key(entries, name)
        if key is None:
            raise EnclaveError(f"There is no saved checklist called {name.strip()!r}.")
        return list(entries[key]["questions"])

    def exists(self, name: str) -> bool:
        return _key(self._read(), name) is not None

    def save(self, name: str, questions: Sequence[str]) -> str:
        """Save (or replace) the checklist `name`; returns the name as saved."""
        clean = " ".join(name.split())
        if not clean:
            raise EnclaveError("Give the checklist a name.")
        if len(clean) > NAME_MAX:
            raise EnclaveError(f"A checklist name has at most {NAME_MAX} characters.")
        kept = [q.strip() for q in questions if q.strip()]
        if not kept:
            raise EnclaveError("The checklist holds no question (one per line).")
        try:
            entries = self._read()
        except EnclaveError:
            entries = {}
            self._keep_damaged()
        old = _key(entries, clean)
        if old is not None:
            del entries[old]
        saved_at = datetime.now(UTC).isoformat(timespec="seconds")
        entries[clean] = {"questions": kept, "saved_at": saved_at}
        self._write(entries)
        return clean

    def delete(self, name: str) -> bool:
        entries = self._read()
        key = _key(entries, name)
        if key is None:
            return False
        del entries[key]
        self._write(entries)
        return True

    def _read(self) -> dict[str, _Saved]:
        damaged = EnclaveError(
            "The saved checklists of this workspace cannot be read (the file is damaged); "
            "saving a checklist keeps the damaged file beside the new one."
        )
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise EnclaveError(
                f"The saved checklists cannot be read ({exc.strerror or type(exc).__name__})."
            ) from None
        except UnicodeDecodeError:
            raise damaged from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise damaged from None
        lists = data.get("checklists") if isinstance(data, dict) else None
        if not isinstance(lists, dict):
            raise damaged
        entries: dict[str, _Saved] = {}
        for name, entry in lists.items():
            questions = entry.get("questions") if isinstance(entry, dict) else None
            if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
                raise damaged
            entries[str(name)] = {
                "questions": questions,
                "saved_at": str(entry.get("saved_at") or ""),
            }
        return entries

    def _write(self, entries: dict[str, _Saved]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        text = json.dumps({"version": 1, "checklists": entries}, ensure_ascii=False, indent=2)
        try:
            with tmp.open("w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self.path)
        except OSError as exc:
            raise EnclaveError(
                f"The checklist could not be saved ({exc.strerror or type(exc).__name__})."
            ) from None

    def _keep_damaged(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        try:
            self.path.replace(self.path.with_name(f"{self.path.name}.damaged-{stamp}"))
        except OSError as exc:
            raise EnclaveError(
                "The saved checklists file is damaged and could not be set aside "
                f"({exc.strerror or type(exc).__name__}); nothing was saved."
            ) from None


def _key(entries: dict[str, _Saved], name: str) -> str | None:
    wanted = " ".join(name.split()).casefold()
    return next((k for k in entries if k.casefold() == wanted), None)
