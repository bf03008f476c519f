"""The frozen app's entry point (PyInstaller runs this file as __main__).

    enclave                      the desktop window (or the terminal shell without one)
    enclave --self-test [--json] the installation self-test (app.checks.selftest); exit 0: passed
    enclave --measure-startup    the window's start-up timings (ui.app), for bench/bench_bundle.py
    enclave COMMAND ...          the command line (`enclave ask`, `enclave doctor`, ...)

Internal forms, used when the app starts itself again (sys.executable is this program):
    enclave --enclave-parse-worker   one document parse (rag.extract.worker_command)
    enclave -m ui                    the window (`enclave gui`)
    enclave -m app.desktop.worker    the window's search-model and index process
    enclave -m rag.parse_worker      the same worker, by module name

Telemetry switches are already set by the runtime hook (hooks/rthook_enclave_offline.py) before
this file runs; every path below installs the egress guard before it imports anything heavy.
The file also runs unfrozen (`python packaging/enclave_entry.py --self-test`) for tests.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

PARSE_WORKER_FLAG = "--enclave-parse-worker"  # rag.extract.FROZEN_WORKER_FLAG (not imported: fast)


def _desktop(argv: Sequence[str]) -> int:
    try:
        from ui.app import main as ui_main
    except ImportError:  # a build without the desktop window
        from app.cli import main as cli_main

        print("The desktop window is not part of this build; starting the terminal shell.")
        return cli_main(["shell"])
    return ui_main(list(argv))


def _parse_worker() -> int:
    from app.privacy.egress import install_egress_guard

    install_egress_guard()  # the worker reads hostile files: it gets the guard too
    from rag.parse_worker import main as worker_main

    return worker_main()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [PARSE_WORKER_FLAG] or args[:2] == ["-m", "rag.parse_worker"]:
        return _parse_worker()
    from app.bootstrap import secure_process

    secure_process()  # telemetry off and the egress guard on, before anything heavy
    if args[:2] == ["-m", "ui"]:
        return _desktop(args[2:])
    if args[:2] == ["-m", "app.desktop.worker"]:
        from app.desktop.worker import main as worker_main

        return worker_main()
    if args[:2] == ["-m", "app"]:
        args = args[2:]
    if not args or args[0] == "--measure-startup":
        return _desktop(args)
    if args[0] == "--self-test":
        from app.cli.selftest import self_test_main

        return self_test_main(json_lines="--json" in args[1:])
    from app.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    raise SystemExit(main())
