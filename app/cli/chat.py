"""`enclave ask` (one question) and `enclave shell` (an interactive conversation)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from app.chat import ChatAnswer, Token
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
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("shell", help="an interactive conversation in the terminal")
    p.add_argument("--workspace", "-w", default="default")
    p.add_argument("--model")
    p.set_defaults(func=cmd_shell)


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
) -> ChatAnswer:
    cancel = CancelToken()
    result: ChatAnswer | None = None
    events = enclave.chat.ask(
        ws, question, conversation_id=conversation, model_id=model, cancel=cancel, k=k
    )
    try:
        for event in events:
            if isinstance(event, Token) and stream:
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
    return result


def cmd_ask(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.get(args.workspace)
    answer = run_question(
        enclave,
        ws,
        args.question,
        stream=not args.json,
        model=args.model,
        conversation=args.conversation,
        k=args.k,
    )
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return 0
    if answer.not_found and not answer.stats:
        print(answer.answer)
    print()
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
        if answer.not_found and not answer.stats:
            print(answer.answer)
        print()
        if answer.citations:
            print(format_citations(answer))
    return 0
