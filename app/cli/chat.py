"""`enclave ask` (one question) and `enclave shell` (an interactive conversation)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from app.chat.service import AskOptions, ChatAnswer
from app.cli.output import CliError, drain
from models.types import CancelToken

EXIT_INTERRUPTED = 130  # as app.cli's: 128 + SIGINT

if TYPE_CHECKING:
    from app.container import Enclave
    from app.library.workspaces import Workspace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="ask a question about a workspace's documents")
    p.add_argument("question", nargs="?", help="the question (or --questions FILE)")
    p.add_argument("--workspace", "-w", required=True)
    p.add_argument(
        "--document",
        action="append",
        default=[],
        metavar="NAME",
        help="ask only about this document (repeatable)",
    )
    review = p.add_argument_group("a review checklist (many questions, one model load)")
    review.add_argument(
        "--questions", type=Path, metavar="FILE", help="one question per line; one answer each"
    )
    review.add_argument(
        "--per-document", action="store_true", help="ask every question of every document"
    )
    review.add_argument(
        "--format", choices=("csv", "html"), help="write the review table (needs -o FILE)"
    )
    review.add_argument("-o", "--out", type=Path, help="the review table's file")
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
    p.add_argument("--workspace", "-w", help="default: the workspace 'default'")
    p.add_argument("--create", action="store_true", help="create the workspace if it is new")
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
    """The citations not already shown in the evidence block."""
    shown = {q.n for q in answer.evidence}
    lines = []
    for c in answer.citations:
        if c.n in shown:
            continue
        where = f"[{c.n}] {c.document}, page {c.page}"
        # The stored quote is verbatim; the terminal shows it with runs of spaces collapsed.
        quote = " ".join(c.quote.split())
        lines.append(f'{where}, "{quote}"' if c.verified else f"{where} (no verifiable quote)")
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
        documents=tuple(getattr(args, "document", None) or ()),
    )


def run_question(
    enclave: Enclave, ws: Workspace, question: str, options: AskOptions, *, stream: bool
) -> ChatAnswer:
    """One answer, printed as it streams. The first Ctrl-C stops the answer (what was written
    so far is stored, marked cancelled); a second one interrupts at once (KeyboardInterrupt)."""
    cancel = CancelToken()
    with ctrl_c_cancels(cancel):
        events = enclave.chat.ask(ws, question, options, cancel=cancel)
        return drain(events, cancel, stream=stream)


@contextmanager
def ctrl_c_cancels(cancel: CancelToken) -> Iterator[None]:
    """While inside: SIGINT sets `cancel` the first time and raises KeyboardInterrupt after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        cancel.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_ask(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.get(args.workspace)
    if args.questions is not None or args.per_document or args.format or args.out:
        from app.cli.review import run_review

        return run_review(enclave, ws, args)
    if not args.question:
        raise CliError("Give a question, or --questions FILE with one question per line.")
    if args.frontier or args.show_request:
        from app.cli.frontier import ask_frontier

        answer = ask_frontier(enclave, ws, args)
        if answer is None:
            return 0  # --show-request alone: shown, nothing sent
        return report(answer, as_json=args.json)
    answer = run_question(enclave, ws, args.question, ask_options(args), stream=not args.json)
    code = report(answer, as_json=args.json)
    if answer.cancelled:
        print("Stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


def report(answer: ChatAnswer, *, as_json: bool) -> int:
    """After the streamed answer: notices, the route (stderr) and the citations; or the JSON."""
    if as_json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return 0
    print()
    for notice in answer.notices:
        print(notice)
    print(format_route(answer), file=sys.stderr)
    more = format_citations(answer)
    if more:
        print()
        print(more)
    return 0


SHELL_COMMANDS = {
    "/help": "this list",
    "/new": "start a new conversation",
    "/quit": "leave (so do an empty line and Ctrl-D)",
}


def cmd_shell(args: argparse.Namespace, enclave: Enclave) -> int:
    if args.workspace is None:
        ws = enclave.workspaces.get_or_create("default")
    else:
        ws = enclave.workspaces.require(args.workspace, create=args.create)
    print(
        f"Enclave, workspace '{ws.name}'. Ask a question; /help lists the commands, "
        "Ctrl-C stops an answer, an empty line or Ctrl-D quits."
    )
    conversation: str | None = None
    while (question := read_question()) is not None:
        if question.startswith("/"):
            if shell_command(question) == "quit":
                break
            conversation = None if question.split()[0] == "/new" else conversation
            continue
        conversation = shell_answer(args, enclave, ws, question, conversation)
    return 0


def read_question() -> str | None:
    """The next line typed; None to quit (an empty line, Ctrl-D). Ctrl-C: a fresh prompt."""
    while True:
        try:
            line = input("\n> ").strip()
        except EOFError:
            return None
        except KeyboardInterrupt:
            print()
            continue
        return line or None


def shell_command(line: str) -> str:
    """Run a /command; 'quit' to leave the shell, '' otherwise."""
    word = line.split()[0].lower()
    if word in ("/quit", "/exit"):
        return "quit"
    if word == "/new":
        print("A new conversation: the next question starts it.")
    elif word == "/help":
        print("\n".join(f"  {name:<6} {what}" for name, what in SHELL_COMMANDS.items()))
        print("  Anything else is a question about the workspace's documents.")
    else:
        print(f"There is no command {word}; /help lists them.")
    return ""


def shell_answer(
    args: argparse.Namespace,
    enclave: Enclave,
    ws: Workspace,
    question: str,
    conversation: str | None,
) -> str | None:
    """Answer one question; Ctrl-C stops it and the shell goes on. Between questions the
    workspace is let go, so an idle shell never keeps an ingest out."""
    try:
        answer = run_question(enclave, ws, question, ask_options(args, conversation), stream=True)
        read_only = enclave.workspaces.serves_read_only(ws.id)
    except KeyboardInterrupt:
        print("\n(stopped)")
        return conversation
    finally:
        enclave.indexes.release(ws.id)
    print("\n(stopped)" if answer.cancelled else "")
    if read_only:
        print(
            "(Another Enclave process is adding documents to this workspace: this answer used "
            "the documents indexed so far, found by their words.)"
        )
    if answer.citations:
        print(format_citations(answer))
    return answer.conversation_id
