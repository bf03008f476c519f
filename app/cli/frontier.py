"""`enclave ask --frontier` / `--show-request`: the approved frontier model from the terminal.

The exact outgoing text is printed (to stderr, so `--json` output stays one object) before any
consent is asked. Consent: on a terminal, a y/N question; in a script, `--yes`, which counts only
after the text was printed (so with mandatory review `--yes` needs `--show-request`). Without
consent nothing is sent and the local model answers, with a notice that says so.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from app.chat.service import AskOptions
from app.cli.output import drain
from app.frontier.gateway import FrontierRefused
from app.frontier.request import render_for_terminal
from app.frontier.route import PreparedQuestion
from models.types import CancelToken

if TYPE_CHECKING:
    from app.chat.service import ChatAnswer
    from app.container import Enclave
    from app.library.workspaces import Workspace

NEEDS_SHOW = (
    "Your administrator requires you to review every request before it is sent: add "
    "--show-request to print it (or run the command in a terminal to be asked)."
)


def ask_frontier(enclave: Enclave, ws: Workspace, args: argparse.Namespace) -> ChatAnswer | None:
    """Prepare, show, ask, send. None when only `--show-request` was asked (nothing sent).
    Whenever the frontier is not asked, the reason is printed and is also the answer's notice
    (so `--json` carries it)."""
    cancel = CancelToken()
    frontier = enclave.frontier
    documents = tuple(getattr(args, "document", None) or ())
    try:
        prepared = frontier.prepare(
            ws, args.question, conversation_id=args.conversation, k=args.k, documents=documents
        )
    except FrontierRefused as exc:
        notice = f"Not sent: {exc.notice}"
        print(notice, file=sys.stderr)
        if not args.frontier:
            return None
        options = AskOptions(conversation_id=args.conversation, documents=documents)
        answer = drain(enclave.chat.ask(ws, args.question, options), cancel, stream=not args.json)
        answer.notices.insert(0, notice)
        return answer
    review = prepared.request.review_required
    shown = args.show_request or review or sys.stdin.isatty()
    if shown:
        print(render_for_terminal(prepared.request, colour=_colour()), file=sys.stderr)
    if not args.frontier:
        print("Nothing was sent (--show-request without --frontier).", file=sys.stderr)
        return None
    consent, why = _consent(prepared, args)
    answer = drain(frontier.send(prepared, consent, cancel=cancel), cancel, stream=not args.json)
    if why:  # after "Nothing was sent: the outgoing text was not approved."
        answer.notices.insert(min(1, len(answer.notices)), why)
    return answer


def _colour() -> bool:
    """Colour the review only on a terminal that wants it (NO_COLOR, TERM=dumb: plain marks)."""
    return (
        sys.stderr.isatty()
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM", "") != "dumb"
    )


def _consent(prepared: PreparedQuestion, args: argparse.Namespace) -> tuple[bool, str]:
    """(consent, why not): the reason is printed and given back for the answer's notices."""
    why = ""
    if args.yes:
        if prepared.request.review_required and not args.show_request:
            why = NEEDS_SHOW
        else:
            return True, ""
    elif not sys.stdin.isatty():
        why = "Not approved: add --yes to approve the text above from a script."
    else:
        try:
            reply = input(f"Send this to {prepared.request.destination}? [y/N] ")
        except EOFError:
            reply = ""
        if reply.strip().lower() in ("y", "yes"):
            return True, ""
        return False, "Not approved: you chose not to send it."
    print(why, file=sys.stderr)
    return False, why
