"""Guards against a broken Qt binding: PySide6 6.12.0 on Python 3.11 dropped a reference to
None or True on every void call (setText, setEnabled) and every signal emit(), so the window
crashed ("deallocating None/True") after a few thousand calls. pyproject pins a good version."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    changed = Signal(object)


def test_calls_and_emits_keep_the_reference_counts_of_none_and_true(qtbot: Any) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    emitter = _Emitter()
    before = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    for n in range(2000):
        label.setText(str(n))
        label.setEnabled(True)
        emitter.changed.emit(n)
    after = sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)
    assert all(a - b > -50 for a, b in zip(after, before, strict=True)), (before, after)
