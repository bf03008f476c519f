"""A push button as the views make them: its label, accessible name, tooltip and slot."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QPushButton


def action_button(text: str, name: str, tip: str, slot: Callable[[], object]) -> QPushButton:
    b = QPushButton(text)
    b.setAccessibleName(name)
    b.setToolTip(tip)
    b.clicked.connect(slot)
    return b
