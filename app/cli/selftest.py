"""`enclave self-test`: prove this installation works here, offline (see app.checks.selftest).

Exit 0 when every check passes, 1 otherwise. With --json, progress goes to stdout as JSON lines
({"event": ..., "seconds": ...}) as it happens, then one line with the whole report; without it,
a line per check for a person. Runs on the main thread.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.container import Enclave


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "self-test",
        help="check this installation: load the model, index a sample, ask, check the citation",
        description=(
            "Load the built-in model, index a bundled sample contract in a temporary folder, ask "
            "it a question, check the answer's citation and that nothing can leave this computer. "
            "Your own folders and documents are not touched."
        ),
    )
    p.add_argument("--json", action="store_true", help="JSON lines: progress, then the report")
    p.add_argument(
        "--home", type=Path, help="use this folder instead of a temporary one (kept afterwards)"
    )
    p.set_defaults(func=cmd_self_test)


def self_test_main(json_lines: bool = False, home: Path | None = None) -> int:
    """Run the self-test and print its report; the exit code (also the frozen app's
    `--self-test`)."""
    from app.checks.selftest import run_self_test

    def progress(event: str, seconds: float) -> None:
        if json_lines:
            print(json.dumps({"event": event, "seconds": seconds}), flush=True)
        else:
            print(f"  ... {event.replace('_', ' ')} ({seconds:.1f} s)", file=sys.stderr, flush=True)

    report = run_self_test(home, progress=progress)
    if json_lines:
        print(json.dumps({"event": "report", **report.to_json()}, ensure_ascii=False), flush=True)
    else:
        print("\n".join(report.lines()))
    return 0 if report.ok else 1


def cmd_self_test(args: argparse.Namespace, enclave: Enclave | None = None) -> int:
    return self_test_main(args.json, args.home)


if __name__ == "__main__":  # `python -m app.cli.selftest [--json]` (install scripts use it)
    from app.bootstrap import secure_process

    secure_process()
    raise SystemExit(self_test_main("--json" in sys.argv[1:]))
