"""Run app work (functions and generators) off the GUI thread, and hand results back as signals.

The worker-object recipe: a `_Job` QObject is moved to its own QThread; it calls the work and
emits each event. A `Task` (a QObject living on the GUI thread) re-emits them, so every slot a
view connects to a Task runs on the GUI thread. `WorkerPool` keeps strong references to every
running thread until it has finished, and `shutdown()` cancels and waits for all of them.

Only signals cross threads; the work function must not touch widgets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from app.desktop.facade import CancelToken
from app.errors import is_user_error
from ui.errors import readable_error

log = logging.getLogger(__name__)

Work = Callable[[], Any]


class _Job(QObject):
    """Lives on the worker thread; `run` executes there."""

    item = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, work: Work, cancel: CancelToken | None) -> None:
        super().__init__()
        self._work = work
        self._cancel = cancel

    @Slot()
    def run(self) -> None:  # worker thread
        try:
            result = self._work()
            if isinstance(result, Iterator):
                for item in result:
                    self.item.emit(item)
            elif result is not None:
                self.item.emit(result)
        except Exception as exc:  # shown to the person as a sentence; the log has no content
            cancelled = self._cancel is not None and self._cancel.cancelled
            if cancelled or is_user_error(exc):  # a known user error: one line, no traceback
                log.info("%s: %s", QThread.currentThread().objectName(), type(exc).__name__)
            self.failed.emit(readable_error(exc))  # a bug: its traceback goes to the log
        finally:
            self._work = _nothing  # drop references to app objects held by the closure
            self.done.emit()


def _nothing() -> None:
    return None


class Task(QObject):
    """The GUI-thread face of one piece of background work. All its signals arrive on the GUI
    thread: `item(object)` for each result, `failed(str)` with a readable message, then
    `finished()` once the thread has ended."""

    item = Signal(object)
    failed = Signal(str)
    finished = Signal()

    # A Task has no Qt parent: the pool holds it while it runs and deletes it (deleteLater)
    # once finished; views drop their reference in their `finished` slot.
    def __init__(self, name: str, cancel: CancelToken | None) -> None:
        super().__init__()
        self.name = name
        self.cancel_token = cancel
        self.running = True
        self.cancel_requested = False
        self._thread: QThread | None = None
        self._job: _Job | None = None

    def cancel(self) -> None:
        """Ask the work to stop (it checks its CancelToken). Safe to call more than once."""
        self.cancel_requested = True
        if self.cancel_token is not None:
            self.cancel_token.cancel()

    @Slot(object)
    def _relay_item(self, item: object) -> None:  # GUI thread
        self.item.emit(item)

    @Slot(str)
    def _relay_failed(self, message: str) -> None:  # GUI thread
        self.failed.emit(message)

    @Slot()
    def _thread_finished(self) -> None:  # GUI thread
        thread = self._thread
        if thread is not None:
            thread.wait()  # it has left run(); this returns at once
            thread.deleteLater()
        self._thread = None
        self._job = None
        self.running = False
        self.finished.emit()


class WorkerPool(QObject):
    """Starts Tasks, each on its own QThread, and keeps them alive until they finish."""

    task_started = Signal(object)
    task_finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[Task] = []

    def start(self, name: str, work: Work, *, cancel: CancelToken | None = None) -> Task:
        """Run `work()` on a new thread. If it returns an iterator, each item is an event;
        otherwise its return value (unless None) is the one event. Call on the GUI thread."""
        task = Task(name, cancel)
        thread = QThread()
        thread.setObjectName(name)
        job = _Job(work, cancel)
        job.moveToThread(thread)
        job.item.connect(task._relay_item)
        job.failed.connect(task._relay_failed)
        # Direct: quit() is thread-safe, and must not wait for the GUI thread (shutdown waits).
        job.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.started.connect(job.run)
        thread.finished.connect(job.deleteLater)
        thread.finished.connect(task._thread_finished)
        task._thread, task._job = thread, job
        task.finished.connect(lambda: self._forget(task))
        self._tasks.append(task)
        thread.start()
        self.task_started.emit(task)
        return task

    def _forget(self, task: Task) -> None:  # GUI thread
        if task in self._tasks:
            self._tasks.remove(task)
        self.task_finished.emit(task)
        task.deleteLater()

    def running(self, name: str | None = None) -> list[Task]:
        return [t for t in self._tasks if t.running and (name is None or t.name == name)]

    def busy(self) -> bool:
        return any(t.running for t in self._tasks)

    def shutdown(self, wait_ms: int | None = None) -> bool:
        """Cancel every task and wait for its thread (forever when wait_ms is None).
        Returns True when no thread is left running. Call on the GUI thread."""
        for task in list(self._tasks):
            task.cancel()
        all_done = True
        for task in list(self._tasks):
            thread = task._thread
            if thread is None:
                continue
            finished = thread.wait() if wait_ms is None else thread.wait(wait_ms)
            all_done = all_done and bool(finished)
        return all_done
