"""The desktop composition root: secure the process, create the QApplication, build one Enclave
and the main window from it, show the window at once, and load models in the background.

`python -m ui --measure-startup` prints JSON lines on stdout: `interactive` once the window is
shown and its event loop is running, `ready` once the model and the search model are loaded
(with the process's RSS), then quits. bench/bench_ui.py uses it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from app.bootstrap import secure_process
from app.errors import EnclaveError, is_user_error

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

STARTED = time.perf_counter()
log = logging.getLogger("ui")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="enclave gui", description="Open the Enclave window.")
    p.add_argument(
        "--measure-startup",
        action="store_true",
        help="print start-up timings as JSON lines and quit once the models are loaded",
    )
    return p.parse_args(argv)


def _rss_mb(children: bool = False) -> float:
    """This process's resident memory in MiB; with `children`, its child processes' (the
    document search and index worker) added."""
    try:
        import psutil

        me = psutil.Process()
        procs = [me, *me.children(recursive=True)] if children else [me]
        return sum(float(p.memory_info().rss) for p in procs) / 2**20
    except Exception:
        return float("nan")


def _emit(event: str, **fields: object) -> None:
    data = {"event": event, "seconds": round(time.perf_counter() - STARTED, 3), **fields}
    print(json.dumps(data), flush=True)


def install_excepthook(window: MainWindow) -> None:
    """Errors that escape a slot become a readable message in the window, never a traceback
    on screen. The log gets the kind of error and where it happened, no content."""
    from ui.errors import readable_error

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        if is_user_error(exc):  # a known user error: one line in the log
            log.warning("unhandled %s", kind.__name__)
        message = readable_error(exc)  # a bug: app.errors.internal_error logs its traceback
        with contextlib.suppress(RuntimeError):  # the window may already be gone
            window.show_message(message)

    sys.excepthook = hook


def build_window(app: QApplication) -> MainWindow:
    from app.bootstrap import record_egress
    from app.desktop.facade import open_desktop
    from app.logfile import open_log
    from ui.main_window import MainWindow

    enclave = open_desktop()  # the search model runs in a child process: torch stays out
    open_log(enclave.paths.logs)
    record_egress(enclave.ledger)
    window = MainWindow(enclave)
    app.aboutToQuit.connect(window.shutdown)
    return window


def main(argv: Sequence[str] | None = None) -> int:
    secure_process()  # telemetry off and the egress guard on, before anything else is imported
    args = parse_args(argv)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from ui import theme

    theme.before_application()
    app = QApplication(sys.argv[:1])
    theme.apply(app)
    try:
        window = build_window(app)
    except (EnclaveError, OSError) as exc:  # unreadable settings, a folder that cannot be made
        QMessageBox.critical(None, "Enclave cannot start", str(exc))
        return 1
    install_excepthook(window)
    window.show()
    QTimer.singleShot(0, window.start)
    if args.measure_startup:
        QTimer.singleShot(0, lambda: QTimer.singleShot(0, lambda: _emit("interactive")))

        def ready(result: object) -> None:
            _emit(
                "ready",
                model=getattr(result, "model_id", ""),
                rss_mb=round(_rss_mb(), 1),
                rss_total_mb=round(_rss_mb(children=True), 1),
            )
            QTimer.singleShot(0, app.quit)

        def failed(message: str) -> None:
            _emit("failed", message=message)
            QTimer.singleShot(0, lambda: app.exit(1))

        window.ready.connect(ready)
        window.startup_failed.connect(failed)
    code = app.exec()
    window.shutdown()
    window.enclave.close()
    return int(code)
