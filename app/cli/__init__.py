"""The `enclave` command line. Each command group lives in its own module with `register()`.

Errors a person can act on (app.errors.USER_ERRORS) go to stderr as one plain sentence, with
exit code 1. Anything else is a bug: one line naming the log file, the traceback in the log.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.bootstrap import record_egress, secure_process
from app.cli.output import CliError

if TYPE_CHECKING:
    from app.container import Enclave

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "CliError", "build_parser", "main"]

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    from app.cli import (
        audit,
        chat,
        conversations,
        doctor,
        documents,
        gui,
        models,
        selftest,
        workspaces,
    )
    from app.cli import (
        eval as evaluation,
    )

    parser = argparse.ArgumentParser(
        prog="enclave",
        description="Enclave: a private assistant that answers from your own documents, offline.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups = (
        documents,
        chat,
        conversations,
        models,
        workspaces,
        doctor,
        gui,
        audit,
        evaluation,
        selftest,
    )
    for module in groups:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    secure_process()  # telemetry off and the egress guard on, before anything else is imported
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from app.container import Enclave
    from app.errors import internal_error, is_user_error, user_message
    from app.logfile import open_log

    enclave: Enclave | None = None
    try:
        enclave = Enclave()
        open_log(enclave.paths.logs)
        record_egress(enclave.ledger)
        code: int = args.func(args, enclave)
        return code
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        message = user_message(exc) if is_user_error(exc) else internal_error(exc)
        print(f"enclave: {message}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if enclave is not None:
            enclave.close()
