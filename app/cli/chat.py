"""`enclave ask` (one question) and `enclave shell` (an interactive conversation)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from app.chat.service import AskOptions, ChatAnswer
from app.cli.output import CliError, drain
from models.types import CancelToken

if TYPE_CHECKING:
    from app.container import Enclave
    from app.library.workspaces import Workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="ask a question about a workspace's documents")
    p.add_argument("question")
    p.add_argument("--workspace", "-w", required=True)
    p.add_argument("--model", help="model id (default: the settings' default model)")
    p.add_argument("--conversation", help="continue this conversation id")
    p.add_argument("--k", type=int, help="number of sources to retrieve")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    add_route_arguments(p)
    frontier = p.add_argument_group("the frontier model (only if your administrator approves one)")
    frontier.add_argument(
        "--frontier",
        action="store_true",
        help="send this question, redacted, to the approved frontier model after you review it",
    )
    frontier.add_argument(
        "--show-request",
        "--show-outgoing",  # its earlier name, kept for scripts
        dest="show_request",
        action="store_true",
        help="print the frontier request exactly as it would leave this computer, redactions "
        "marked; without --frontier nothing is sent and no answer is made",
    )
    frontier.add_argument(
        "--yes",
        action="store_true",
        help="approve the frontier request printed before sending (for scripts; needs "
        "--show-request when review is mandatory)",
    )
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("shell", help="an interactive conversation in the terminal")
    p.add_argument("--workspace", "-w", default="default")
    p.add_argument("--model")
    p.set_defaults(func=cmd_shell)


def add_route_arguments(p: argparse.ArgumentParser) -> None:
    """Per-question overrides of the router (app.routing.router)."""
    from app.routing.domains import DOMAINS
    from app.routing.router import TIERS

    effort = p.add_mutually_exclusive_group()
    effort.add_argument(
        "--think-harder",
        action="store_const",
        const="think_harder",
        dest="choice",
        help="several answers, chosen by agreement, then each claim checked against the sources",
    )
    effort.add_argument(
        "--quick", action="store_const", const="quick", dest="choice", help="one direct answer"
    )
    p.add_argument("--domain", choices=DOMAINS, help="route as this domain's question")
    p.add_argument("--tier", choices=TIERS, help="force the compute tier")
    p.add_argument("--samples", type=int, help="number of samples for self-consistency")
    p.set_defaults(choice="auto")


def format_route(answer: ChatAnswer) -> str:
    r = answer.route
    parts = [f"route: {r.model_id}", r.domain, r.tier]
    if r.samples > 1:
        parts.append(f"{r.samples} samples")
    if r.agreement is not None:
        parts.append(f"agreement {r.agreement:.2f}")
    if r.confidence is not None:
        parts.append(f"confidence {r.confidence:.2f}")
    if r.frontier_offered:
        parts.append("a frontier model is available")
    return ", ".join(parts)


def format_citations(answer: ChatAnswer) -> str:
    lines = []
    for c in answer.citations:
        where = f"[{c.n}] {c.document}, page {c.page}"
        # The stored quote is verbatim; the terminal shows it with runs of spaces collapsed.
        shown = " ".join(c.quote.split())
        lines.append(f'{where}, "{shown}"' if c.verified else f"{where} (no verifiable quote)")
    return "\n".join(lines)


def ask_options(args: argparse.Namespace, conversation: str | None = None) -> AskOptions:
    """The question's choices from the command line (`ask`'s flags; `shell` has fewer)."""
    samples = getattr(args, "samples", None)
    if samples is not None and samples < 1:
        raise CliError("--samples must be at least 1.")
    return AskOptions(
        conversation_id=conversation
        if conversation is not None
        else getattr(args, "conversation", None),
        k=getattr(args, "k", None),
        choice=getattr(args, "choice", "auto"),
        domain=getattr(args, "domain", None),
        tier=getattr(args, "tier", None),
        samples=samples,
        model_id=getattr(args, "model", None),
    )


def run_question(
    enclave: Enclave, ws: Workspace, question: str, options: AskOptions, *, stream: bool
) -> ChatAnswer:
    cancel = CancelToken()
    return drain(enclave.chat.ask(ws, question, options, cancel=cancel), cancel, stream=stream)


def cmd_ask(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.get(args.workspace)
    if args.frontier or args.show_request:
        from app.cli.frontier import ask_frontier

        answer = ask_frontier(enclave, ws, args)
        if answer is None:
            return 0  # --show-request alone: shown, nothing sent
        return report(answer, as_json=args.json)
    answer = run_question(enclave, ws, args.question, ask_options(args), stream=not args.json)
    return report(answer, as_json=args.json)


def report(answer: ChatAnswer, *, as_json: bool) -> int:
    """After the streamed answer: notices, the route (stderr) and the citations; or the JSON."""
    if as_json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return 0
    print()
    for notice in answer.notices:
        print(notice)
    print(format_route(answer), file=sys.stderr)
    if answer.citations:
        print()
        print(format_citations(answer))
    return 0


def cmd_shell(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.get_or_create(args.workspace)
    print(f"Enclave, workspace '{ws.name}'. Ask a question; an empty line or Ctrl-D quits.")
    conversation: str | None = None
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            break
        if not question:
            break
        answer = run_question(enclave, ws, question, ask_options(args, conversation), stream=True)
        conversation = answer.conversation_id
        print()
        if answer.citations:
            print(format_citations(answer))
    return 0
