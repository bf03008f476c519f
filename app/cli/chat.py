"""`enclave ask` (one question) and `enclave shell` (an interactive conversation)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from app.chat import ChatAnswer, ChatEvent, Token
from app.router import Choice, Tier
from models.types import CancelToken

if TYPE_CHECKING:
    from app.container import Enclave
    from app.workspaces import Workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="ask a question about a workspace's documents")
    p.add_argument("question")
    p.add_argument("--workspace", "-w", required=True)
    p.add_argument("--model", help="model id (default: the settings' default model)")
    p.add_argument("--conversation", help="continue this conversation id")
    p.add_argument("--k", type=int, help="number of sources to retrieve")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    add_route_arguments(p)
    remote = p.add_argument_group("the approved remote model (only if your administrator allows)")
    remote.add_argument(
        "--frontier",
        action="store_true",
        help="send this question, redacted, to the approved remote model after you review it",
    )
    remote.add_argument(
        "--show-outgoing",
        action="store_true",
        help="print exactly what would leave this computer, redactions marked; without "
        "--frontier nothing is sent and no answer is made",
    )
    remote.add_argument(
        "--yes",
        action="store_true",
        help="approve the outgoing text printed before sending (for scripts; needs "
        "--show-outgoing when review is mandatory)",
    )
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("shell", help="an interactive conversation in the terminal")
    p.add_argument("--workspace", "-w", default="default")
    p.add_argument("--model")
    p.set_defaults(func=cmd_shell)


def add_route_arguments(p: argparse.ArgumentParser) -> None:
    """Per-question overrides of the router (app.router)."""
    from app.domains import DOMAINS
    from app.router import TIERS

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
    if r.escalate:
        parts.append("a remote model is available")
    return ", ".join(parts)


def format_citations(answer: ChatAnswer) -> str:
    lines = []
    for c in answer.citations:
        where = f"[{c.n}] {c.document}, page {c.page}"
        # The stored quote is verbatim; the terminal shows it with runs of spaces collapsed.
        shown = " ".join(c.quote.split())
        lines.append(f'{where}, "{shown}"' if c.verified else f"{where} (no verifiable quote)")
    return "\n".join(lines)


def run_question(
    enclave: Enclave,
    ws: Workspace,
    question: str,
    *,
    stream: bool,
    model: str | None = None,
    conversation: str | None = None,
    k: int | None = None,
    choice: Choice = "auto",
    domain: str | None = None,
    tier: Tier | None = None,
    samples: int | None = None,
) -> ChatAnswer:
    cancel = CancelToken()
    if samples is not None and samples < 1:
        raise ValueError("--samples must be at least 1.")
    events = enclave.chat.ask(
        ws,
        question,
        conversation_id=conversation,
        model_id=model,
        cancel=cancel,
        k=k,
        choice=choice,
        domain=domain,
        tier=tier,
        samples=samples,
    )
    return drain(events, cancel, stream=stream)


def drain(events: Iterator[ChatEvent], cancel: CancelToken, *, stream: bool) -> ChatAnswer:
    """Print streamed tokens (when `stream`) and return the final ChatAnswer; Ctrl-C stops the
    answer and still returns what was stored."""
    result: ChatAnswer | None = None
    shown: list[str] = []
    try:
        for event in events:
            if isinstance(event, Token) and stream:
                shown.append(event.text)
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, ChatAnswer):
                result = event
    except KeyboardInterrupt:
        cancel.cancel()  # the engine stops; drain to get the stored (partial) answer
        for event in events:
            if isinstance(event, ChatAnswer):
                result = event
    assert result is not None
    final = result.answer.strip()
    if stream and final and not result.cancelled and final not in "".join(shown):
        # nothing was generated, or the router replaced the draft (abstention, removed claims)
        print(f"\n{final}" if shown else final)
    return result


def cmd_ask(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.get(args.workspace)
    if args.frontier or args.show_outgoing:
        from app.cli.remote import ask_remote

        remote = ask_remote(enclave, ws, args)
        if remote is None:
            return 0  # --show-outgoing alone: shown, nothing sent
        return report(remote, as_json=args.json)
    answer = run_question(
        enclave,
        ws,
        args.question,
        stream=not args.json,
        model=args.model,
        conversation=args.conversation,
        k=args.k,
        choice=args.choice,
        domain=args.domain,
        tier=args.tier,
        samples=args.samples,
    )
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
        answer = run_question(
            enclave, ws, question, stream=True, model=args.model, conversation=conversation
        )
        conversation = answer.conversation_id
        print()
        if answer.citations:
            print(format_citations(answer))
    return 0
