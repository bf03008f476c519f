"""`enclave workspaces share|unshare|join|members|team-sql`: shared workspaces on the team servers.

The servers are the administrator's policy's `team` entry (app.privacy.team_policy); nothing here
connects anywhere else. Every failure is one sentence (TeamUnavailable, WorkspaceError).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.container import Enclave


def register_actions(wsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    q = wsub.add_parser("share", help="move a workspace to the team servers (nothing is lost)")
    q.add_argument("name")
    q.set_defaults(func=cmd_share)
    q = wsub.add_parser("unshare", help="move a shared workspace back to this computer")
    q.add_argument("name")
    q.set_defaults(func=cmd_unshare)
    q = wsub.add_parser("join", help="add a shared workspace you are a member of")
    q.add_argument("name")
    q.set_defaults(func=cmd_join)
    q = wsub.add_parser("members", help="list, add or remove a shared workspace's members")
    q.add_argument("name")
    q.add_argument("--add", metavar="LOGIN", action="append", default=[])
    q.add_argument("--remove", metavar="LOGIN", action="append", default=[])
    q.set_defaults(func=cmd_members)
    q = wsub.add_parser("team-sql", help="print the team database's schema (for the DBA)")
    q.set_defaults(func=cmd_team_sql)
    q = wsub.add_parser("team-password", help="keep your team database password in the keyring")
    q.set_defaults(func=cmd_team_password)


def _progress(done: int, total: int) -> None:
    print(f"\r  {done}/{total} documents copied", end="" if done < total else "\n", file=sys.stderr)


def cmd_share(args: argparse.Namespace, enclave: Enclave) -> int:
    from app.library.sharing import share

    ws = enclave.workspaces.get(args.name)
    enclave.workspaces.team().list()  # the servers answer before the search model loads
    enclave.indexes.release(ws.id)
    shared, report = share(enclave.workspaces, ws, enclave.embedder, _progress)
    print(
        f"Shared workspace '{shared.name}' on the team servers: {report.documents} documents, "
        f"{report.passages} passages and {report.vectors} vectors copied and verified; "
        "its local copy was removed."
    )
    return 0


def cmd_unshare(args: argparse.Namespace, enclave: Enclave) -> int:
    from app.library.sharing import unshare

    ws = enclave.workspaces.get(args.name)
    enclave.indexes.release(ws.id)
    local, report = unshare(enclave.workspaces, ws, _progress)
    print(
        f"Workspace '{local.name}' is on this computer again: {report.documents} documents, "
        f"{report.passages} passages and {report.vectors} vectors copied and verified; "
        "it was removed from the team servers."
    )
    return 0


def cmd_join(args: argparse.Namespace, enclave: Enclave) -> int:
    from app.library.sharing import join

    ws = join(enclave.workspaces, args.name)
    print(f"Added shared workspace '{ws.name}' (id {ws.id}).")
    return 0


def cmd_members(args: argparse.Namespace, enclave: Enclave) -> int:
    from app.library.workspaces import WorkspaceError

    ws = enclave.workspaces.get(args.name)
    if not ws.shared:
        raise WorkspaceError(f"Workspace '{ws.name}' is not shared: it has no member list.")
    team = enclave.workspaces.team()
    for login in args.add:
        team.add_member(ws.id, login)
    for login in args.remove:
        team.remove_member(ws.id, login)
    for login in team.members(ws.id):
        print(login)
    return 0


def cmd_team_sql(args: argparse.Namespace, enclave: Enclave) -> int:
    from rag.pg_schema import SCHEMA_SQL

    print(SCHEMA_SQL.strip())
    return 0


def cmd_team_password(args: argparse.Namespace, enclave: Enclave) -> int:
    """Read the password (hidden on a terminal, one line from a pipe) into the OS keyring."""
    import getpass

    from app.library.team import db_key_id

    team = enclave.workspaces.team()
    prompt = f"Team database password for {team.user!r}: "
    password = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().strip()
    enclave.keys.set_api_key(db_key_id(team.user), password)  # NoSecureStorage: one sentence
    print(f"Saved in the OS keyring ({db_key_id(team.user)!r}).")
    return 0
