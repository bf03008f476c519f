"""The `enclave` command line. Each command group lives in its own module with `register()`.

Errors a person can act on go to stderr as one plain sentence, with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.bootstrap import secure_process

if TYPE_CHECKING:
    from app.container import Enclave

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A failure to report to the user in one sentence (exit code 1)."""


def build_parser() -> argparse.ArgumentParser:
    from app.cli import chat, conversations, doctor, documents, gui, models, workspaces

    parser = argparse.ArgumentParser(
        prog="enclave",
        description="Enclave: a private assistant that answers from your own documents, offline.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (documents, chat, conversations, models, workspaces, doctor, gui):
        module.register(sub)
    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Command groups that other parts of the app contribute when present."""
    import importlib

    for name in ("app.cli.audit", "app.cli.eval", "app.cli.selftest"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    secure_process()  # telemetry off and the egress guard on, before anything else is imported
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from app.container import Enclave

    enclave: Enclave | None = None
    try:
        enclave = Enclave()
        code: int = args.func(args, enclave)
        return code
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    except (CliError, ValueError, KeyError, FileNotFoundError, PermissionError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"enclave: {message}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if enclave is not None:
            enclave.close()
