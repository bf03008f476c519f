"""Enter sends the question; Shift+Enter adds a line."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from ui.composer import Composer


def test_enter_sends_and_shift_enter_adds_a_line(qtbot: Any) -> None:
    box = Composer()
    qtbot.addWidget(box)
    sent: list[str] = []
    box.submitted.connect(sent.append)
    qtbot.keyClicks(box, "first line")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "second line")
    assert sent == []
    assert box.toPlainText() == "first line\nsecond line"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert sent == ["first line\nsecond line"]


def test_an_empty_question_is_not_sent(qtbot: Any) -> None:
    box = Composer()
    qtbot.addWidget(box)
    sent: list[str] = []
    box.submitted.connect(sent.append)
    qtbot.keyClicks(box, "   ")
    qtbot.keyClick(box, Qt.Key.Key_Enter)
    assert sent == []
