"""`enclave conversations list|export`: past conversations, and a conversation with its
citations written to Markdown or self-contained HTML (the same files the window exports). An
answer regenerated into several versions is written in the version chosen in the window, marked
"version 2 of 3"."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.container import Enclave


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("conversations", help="list or export a workspace's conversations")
    csub = p.add_subparsers(dest="conversations_command", required=True)
    q = csub.add_parser("list")
    q.add_argument("--workspace", "-w", required=True)
    q.set_defaults(func=cmd_list)
    q = csub.add_parser(
        "export",
        help="write a conversation with its citations to a file (each answer in the version "
        "chosen in the window)",
    )
    q.add_argument("conversation", help="conversation id (see `enclave conversations list`)")
    q.add_argument("--out", "-o", type=Path, required=True, help="the file to write")
    q.add_argument("--format", choices=("md", "html"), help="default: from the file's suffix")
    q.set_defaults(func=cmd_export)


def cmd_list(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.get(args.workspace)
    for conv in enclave.history.conversations(ws.id):
        print(f"{conv.id}  {conv.updated_at[:16]}  {conv.title}")
    return 0


SUFFIX_FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


def export_format(out: Path) -> str:
    """The format a file name asks for; an unknown one is refused (never Markdown in a .pdf)."""
    from app.cli.output import CliError

    fmt = SUFFIX_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise CliError(
            f"Enclave exports a conversation as Markdown (.md) or HTML (.html), not "
            f"{out.suffix or 'a file without a suffix'}: name the file NAME.md or NAME.html, "
            "or choose with --format md|html."
        )
    return fmt


def cmd_export(args: argparse.Namespace, enclave: Enclave) -> int:
    from app.cli.output import CliError
    from app.library.export import conversation_html, conversation_markdown

    fmt = args.format or export_format(args.out)
    conv = enclave.history.conversation(args.conversation)  # ConversationNotFound: a sentence
    builder = conversation_html if fmt == "html" else conversation_markdown
    workspace = enclave.workspaces.get(conv.workspace_id).name
    text = builder(conv.title, workspace, enclave.history.messages(conv.id))
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(
            f"The conversation could not be saved to {args.out}: {exc.strerror}."
        ) from None
    print(f"Saved to {args.out}.")
    return 0
