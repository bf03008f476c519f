"""`enclave ask --questions FILE [--per-document] [--json | --format csv|html -o FILE]`: a review
checklist over a workspace (a due-diligence list over a data room, a chart abstraction), every
question on one model load. See app.library.review."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from app.cli.output import CliError, format_evidence, progress_line
from app.library.review import ReviewRow, read_questions, run_checklist, write_table
from models.types import CancelToken

if TYPE_CHECKING:
    from app.container import Enclave
    from app.library.workspaces import Workspace

__all__ = ["run_review"]


def run_review(enclave: Enclave, ws: Workspace, args: argparse.Namespace) -> int:
    if args.questions is None:
        if not args.question:
            raise CliError("Give --questions FILE with one question per line.")
        questions = [args.question]
    else:
        if args.question:
            raise CliError("Give either a question or --questions FILE, not both.")
        questions = read_questions(args.questions)
    if bool(args.format) != bool(args.out):
        raise CliError("--format and -o go together: for example --format csv -o review.csv.")
    cancel = CancelToken()
    rows: list[ReviewRow] = []
    events = run_checklist(
        enclave.chat, enclave.index(ws), ws, questions, per_document=args.per_document,
        documents=tuple(args.document), cancel=cancel,
        progress=lambda done, total: progress_line(done, total, "questions", ""),
    )  # fmt: skip
    try:
        for row in events:
            rows.append(row)
            if args.json:
                print(json.dumps(row.to_json(), ensure_ascii=False), flush=True)
            elif not args.out:
                _print_row(row)
    except KeyboardInterrupt:
        cancel.cancel()
        print("Stopped.", file=sys.stderr)
    finally:
        progress_line(None, None, "", "")
    if args.out:
        text = write_table(rows, args.format, f"Enclave review: {ws.name}")
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(
                f"The review could not be saved to {args.out}: {exc.strerror}."
            ) from None
        found = sum(not r.answer.not_found for r in rows)
        print(f"Saved {len(rows)} answers ({found} found in the documents) to {args.out}.")
    return 130 if cancel.cancelled else 0


def _print_row(row: ReviewRow) -> None:
    where = f" [{row.document}]" if row.document else ""
    print(f"Q: {row.question}{where}")
    if row.answer.evidence:
        print(format_evidence(row.answer.evidence))
    if not row.answer.evidence_only:
        print(row.answer.answer)
    print()
