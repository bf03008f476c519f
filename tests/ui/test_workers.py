"""The worker pool: app work runs off the GUI thread, results arrive on it, in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QCoreApplication, QThread

from app.desktop.facade import CancelToken
from models.errors import ModelFileError
from ui.workers import WorkerPool


def test_generator_items_arrive_in_order_on_the_gui_thread(qtbot: Any) -> None:
    pool = WorkerPool()
    worker_threads: list[int] = []
    received: list[tuple[int, bool]] = []

    def work() -> Iterator[int]:
        worker_threads.append(threading.get_ident())
        yield from range(50)

    task = pool.start("numbers", work)
    task.item.connect(
        lambda n: received.append(
            (n, QThread.currentThread() is QCoreApplication.instance().thread())
        )
    )
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert [n for n, _ in received] == list(range(50))
    assert all(on_gui for _, on_gui in received)
    assert worker_threads and worker_threads[0] != threading.get_ident()
    assert not pool.busy()


def test_a_failure_becomes_a_readable_message(qtbot: Any) -> None:
    pool = WorkerPool()

    def work() -> None:
        raise ModelFileError("the file is not a GGUF model")

    task = pool.start("fails", work)
    with qtbot.waitSignal(task.failed, timeout=10_000) as blocker:
        pass
    assert blocker.args == ["The file is not a GGUF model."]
    qtbot.waitUntil(lambda: not pool.busy(), timeout=10_000)


def test_an_unexpected_error_names_the_log_not_its_text(qtbot: Any) -> None:
    pool = WorkerPool()

    def work() -> None:
        raise ZeroDivisionError("secret patient text")

    task = pool.start("bug", work)
    with qtbot.waitSignal(task.failed, timeout=10_000) as blocker:
        pass
    message = blocker.args[0]
    assert message.startswith("Enclave hit an internal error; details are in ")
    assert "secret" not in message and "Traceback" not in message
    qtbot.waitUntil(lambda: not pool.busy(), timeout=10_000)


def test_cancel_stops_a_cancellable_generator_and_shutdown_waits(qtbot: Any) -> None:
    pool = WorkerPool()
    cancel = CancelToken()
    started = threading.Event()

    def work() -> Iterator[int]:
        n = 0
        while not cancel.cancelled:
            started.set()
            n += 1
            yield n
            threading.Event().wait(0.005)

    task = pool.start("endless", work, cancel=cancel)
    assert started.wait(10)
    assert pool.running("endless") == [task]
    assert pool.shutdown(wait_ms=10_000)
    assert cancel.cancelled and task.cancel_requested
    qtbot.waitUntil(lambda: not pool.busy(), timeout=10_000)
