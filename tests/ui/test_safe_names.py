"""File names are shown safely in the window: a bidi override cannot spoof an extension."""

from __future__ import annotations

from typing import Any

from app.desktop.facade import DocumentRecord
from ui.list_models import document_model

SPOOF = "invoice\u202efdp.exe"  # shows as "invoiceexe.pdf" when the override is obeyed


def test_a_bidi_override_in_a_name_is_escaped_in_the_documents_table(qtbot: Any) -> None:
    model = document_model()
    record = DocumentRecord("d1", SPOOF, f"/m/{SPOOF}", "", "indexed", 1, 1, "", [], "")
    model.set_items([record])
    shown = model.index(0, 0).data()
    assert "\u202e" not in shown and "\\u202e" in shown
    assert "\u202e" not in model.index(0, 0).data(3)  # the tooltip too (Qt.ToolTipRole)
