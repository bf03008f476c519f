"""`enclave ask --frontier` / `--show-request`: the approved frontier model from the terminal.

The exact outgoing text is printed (to stderr, so `--json` output stays one object) before any
consent is asked. Consent: on a terminal, a y/N question; in a script, `--yes`, which counts only
after the text was printed (so with mandatory review `--yes` needs `--show-request`). Without
consent nothing is sent and the local model answers, with a notice that says so.
"""

from __future__ import annotations

import argparse
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
    """Prepare, show, ask, send. None when only `--show-request` was asked (nothing sent)."""
    cancel = CancelToken()
    frontier = enclave.frontier
    try:
        prepared = frontier.prepare(ws, args.question, conversation_id=args.conversation, k=args.k)
    except FrontierRefused as exc:
        print(f"Not sent: {exc.notice}", file=sys.stderr)
        if not args.frontier:
            return None
        events = enclave.chat.ask(ws, args.question, AskOptions(conversation_id=args.conversation))
        return drain(events, cancel, stream=not args.json)
    review = prepared.request.review_required
    shown = args.show_request or review or sys.stdin.isatty()
    if shown:
        print(render_for_terminal(prepared.request), file=sys.stderr)
    if not args.frontier:
        print("Nothing was sent (--show-request without --frontier).", file=sys.stderr)
        return None
    consent = _consent(prepared, args)
    return drain(frontier.send(prepared, consent, cancel=cancel), cancel, stream=not args.json)


def _consent(prepared: PreparedQuestion, args: argparse.Namespace) -> bool:
    if args.yes:
        if prepared.request.review_required and not args.show_request:
            print(NEEDS_SHOW, file=sys.stderr)
            return False
        return True
    if not sys.stdin.isatty():
        print("Not approved: add --yes to approve the text above from a script.", file=sys.stderr)
        return False
    try:
        reply = input(f"Send this to {prepared.request.destination}? [y/N] ")
    except EOFError:
        return False
    return reply.strip().lower() in ("y", "yes")
