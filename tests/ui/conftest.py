"""pytest-qt fixtures for the desktop window (offscreen: tests/conftest.py sets QT_QPA_PLATFORM).

- `_no_dangling_qthreads` (autouse): every QThread started during a test must have finished by
  its end, or the test fails naming where the thread was started (napari's recipe).
- `make_window`: a MainWindow on the real app services (a real Enclave in the test's own
  ENCLAVE_HOME), with scripted dialogs; shut down and closed at the end of the test.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from typing import Any
from weakref import WeakKeyDictionary

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QThread, QUrl

from tests.ui.window_helpers import ScriptedDialogs, close_window


@pytest.fixture(autouse=True)
def _no_dangling_qthreads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    started: WeakKeyDictionary[QThread, str] = WeakKeyDictionary()
    base_start = QThread.start

    def start(self: QThread, *args: Any) -> None:
        started[self] = "".join(traceback.format_stack(limit=8)[:-1])
        base_start(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    dangling = []
    for thread, where in list(started.items()):
        try:
            if thread.isRunning():
                dangling.append((thread.objectName(), where))
        except RuntimeError:  # the C++ object is gone: it finished and was deleted
            continue
    if dangling:
        text = "\n".join(f"- {name or 'QThread'} started at:\n{where}" for name, where in dangling)
        pytest.fail(f"{len(dangling)} QThread(s) still running after the test:\n{text}")


@pytest.fixture
def dialogs() -> ScriptedDialogs:
    return ScriptedDialogs()


@pytest.fixture
def opened_urls() -> list[QUrl]:
    return []


@pytest.fixture
def make_window(
    qtbot: Any, dialogs: ScriptedDialogs, opened_urls: list[QUrl], request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """make_window(start=True, embedder=None, desktop=False) -> a MainWindow on a fresh real
    Enclave. Pass the session's real embedder to skip reloading it (about 5 s) for each window;
    desktop=True builds the desktop's Enclave (open_desktop) (the embedder in a child process)."""
    from app.container import Enclave
    from app.desktop.facade import open_desktop
    from ui.main_window import MainWindow

    made: list[Any] = []

    def make(start: bool = True, embedder: object | None = None, desktop: bool = False) -> Any:
        # Given the session's loaded model, a window does not load its own.
        enclave = open_desktop() if desktop else Enclave(embedder=embedder)  # type: ignore[arg-type]
        window = MainWindow(
            enclave,
            dialogs=dialogs,  # type: ignore[arg-type]
            opener=lambda url: opened_urls.append(url) or True,
        )
        qtbot.addWidget(window)
        made.append(window)
        window.show()
        if start:
            window.start()
        return window

    yield make
    for window in made:
        close_window(window)
