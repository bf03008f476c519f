"""`enclave workspaces list|create|rename|delete` (share, unshare...: app.cli.workspaces_team)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from app.cli.output import CliError

if TYPE_CHECKING:
    from app.container import Enclave


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("workspaces", help="list, create, rename or delete workspaces")
    wsub = p.add_subparsers(dest="action", required=True)
    q = wsub.add_parser("list")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_list)
    q = wsub.add_parser("create")
    q.add_argument("name")
    q.set_defaults(func=cmd_create)
    q = wsub.add_parser("rename")
    q.add_argument("name")
    q.add_argument("new_name")
    q.set_defaults(func=cmd_rename)
    q = wsub.add_parser("delete", help="delete a workspace's index and conversations")
    q.add_argument("name")
    q.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    q.set_defaults(func=cmd_delete)
    from app.cli.workspaces_team import register_actions

    register_actions(wsub)


def cmd_list(args: argparse.Namespace, enclave: Enclave) -> int:
    spaces = enclave.workspaces.list()
    for ws in spaces:
        if args.json:
            meta = {"id": ws.id, "name": ws.name, "created_at": ws.created_at}
            print(json.dumps(meta | {"shared": ws.shared}))
        else:
            where = ", shared" if ws.shared else ""
            print(f"{ws.name}  (id {ws.id}, created {ws.created_at}{where})")
    if not spaces and not args.json:
        print("No workspaces yet. Create one with: enclave workspaces create NAME")
    return 0


def cmd_create(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.create(args.name)
    print(f"Created workspace '{ws.name}' (id {ws.id}).")
    return 0


def cmd_rename(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.rename(args.name, args.new_name)
    print(f"Renamed to '{ws.name}'.")
    return 0


def cmd_delete(args: argparse.Namespace, enclave: Enclave) -> int:
    ws = enclave.workspaces.get(args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(
                f"Deleting workspace '{ws.name}' needs your confirmation: run it in a terminal, "
                "or add --yes."
            )
        reply = input(
            f"Delete workspace '{ws.name}', its document index and its conversations? "
            "Your original files are not touched. [y/N] "
        )
        if reply.strip().lower() not in {"y", "yes"}:
            print("Nothing deleted.")
            return 1
    enclave.delete_workspace(ws.id)
    print(f"Deleted workspace '{ws.name}'.")
    return 0
