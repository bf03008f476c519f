"""The `enclave` command line. Each command group lives in its own module with `register()`.

Errors a person can act on (app.errors.USER_ERRORS) go to stderr as one plain sentence, with
exit code 1. Anything else is a bug: one line naming the log file, the traceback in the log.
"""

from __future__ import annotations

import argparse
import os
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
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, what the shell reports for `yes | head -1`


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
        serve,
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
        serve,
    )
    for module in groups:
        module.register(sub)
    return parser


def closed_pipe() -> int:
    """The reader of stdout went away (`enclave ... | head -1`): end quietly, as a program
    killed by SIGPIPE would (exit 141). stdout is pointed at the null device so that Python's
    own last flush of it cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_CLOSED_PIPE


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
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return closed_pipe()
    except Exception as exc:
        message = user_message(exc) if is_user_error(exc) else internal_error(exc)
        print(f"enclave: {message}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if enclave is not None:
            enclave.close()
