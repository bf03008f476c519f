"""`enclave audit [--verify] [--json] [--limit N]`: list and verify the local audit ledger.

The ledger (app.privacy.ledger) records every attempt to leave the machine: no content, only
time, workspace, destination, bytes, redaction counts and request hashes. `--verify` checks the
hash chain and the head record beside it, and exits 1 naming the first altered line, or saying
that entries were cut off the end or the file was deleted. Runs on the main thread; reads only.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from app.paths import Paths
from app.privacy.ledger import AuditLedger, LedgerSummary


def register(subparsers: Any) -> None:
    """Add the `audit` command to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "audit",
        help="list and verify the audit ledger of outgoing connections",
        description=(
            "List the audit ledger: every attempt to connect off this computer, allowed or "
            "refused, and every frontier call (never its content)."
        ),
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="check the hash chain and its head; exit 1 if a line was altered or removed",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--limit", type=int, default=50, help="show the last N entries (0: all; default 50)"
    )
    parser.set_defaults(func=run)


def run(
    args: argparse.Namespace,
    enclave: Any = None,
    *,
    paths: Paths | None = None,
    out: TextIO | None = None,
) -> int:
    """Print the ledger (and its verification). Returns the process exit code.

    `enclave` is the CLI's composition root (only its `.paths` is used); `paths` overrides it.
    """
    out = out or sys.stdout
    paths = paths or getattr(enclave, "paths", None) or Paths.from_env()
    ledger = AuditLedger.for_paths(paths)
    entries = list(ledger.entries())
    shown = entries if args.limit <= 0 else entries[-args.limit :]
    summary = ledger.summary()
    verify = ledger.verify() if args.verify else None
    if args.json:
        document: dict[str, Any] = {
            "ledger": str(ledger.path),
            "summary": {
                "entries": summary.entries,
                "allowed_outbound": summary.allowed_outbound,
                "refused": summary.refused,
                "frontier_calls": summary.frontier_calls,
                "frontier_attempts": summary.frontier_attempts,
                "connections_allowed": summary.connections_allowed,
                "last_outbound": summary.last_outbound,
            },
            "entries": shown,
        }
        if verify is not None:
            document["verify"] = {
                "ok": verify.ok,
                "lines": verify.lines,
                "first_bad_line": verify.first_bad_line,
                "reason": verify.reason,
                "message": verify.message(),
            }
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        out.write(f"Audit ledger: {ledger.path}\n")
        if not entries:
            out.write("No entries: nothing has tried to leave this computer.\n")
        else:
            out.write(_counts(summary) + "\n")
            for entry in shown:
                out.write(_line(entry) + "\n")
        if verify is not None:
            out.write(verify.message() + "\n")
    return 0 if verify is None or verify.ok else 1


def _counts(summary: LedgerSummary) -> str:
    """One sentence of counts; an approved call that sent 0 bytes is an attempt, not a send."""
    text = (
        f"{summary.entries} entries: {summary.connections_allowed} connections allowed, "
        f"{summary.refused} refused, {summary.frontier_calls} frontier calls sent"
    )
    if summary.frontier_attempts:
        text += f", {summary.frontier_attempts} attempted (0 bytes sent)"
    return text + "."


def _verdict(entry: dict[str, Any]) -> str:
    if not entry.get("allowed"):
        return "REFUSED"
    if entry.get("kind") == "frontier_call" and entry.get("bytes_out") == 0:
        return "ATTEMPTED"  # approved, but nothing went out (unreachable, blocked)
    return "ALLOWED"


def _line(entry: dict[str, Any]) -> str:
    verdict = _verdict(entry)
    where = entry.get("destination") or "-"
    what = entry.get("kind", "?")
    if what == "egress":
        detail = entry.get("connection", "")
    else:
        redactions = entry.get("redactions") or {}
        counts = ",".join(f"{k}:{v}" for k, v in sorted(redactions.items())) or "none"
        sha = str(entry.get("request_sha256") or "")[:12]
        detail = (
            f"{entry.get('outcome', '')} out={entry.get('bytes_out', 0)}B "
            f"in={entry.get('bytes_in', 0)}B redactions={counts} sha256={sha}"
        )
    return (
        f"{entry.get('seq', '?'):>5}  {entry.get('time', '')}  {verdict:<9}  {what:<13}  "
        f"workspace={entry.get('workspace') or '-'}  {where}  {detail}"
    ).rstrip()
