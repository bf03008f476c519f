"""The Models panel lists the inference servers the administrator's policy approves (read-only):
a real policy file, the real app services, the window's own Models tab (offscreen Qt)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractItemView

LONG = 120_000  # ms: this 2-core machine is shared


def _rows(table: Any) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_the_models_panel_lists_the_approved_servers_with_host_and_domains(
    make_window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.embedder import HashEmbedder

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "inference_servers": [
        {"id": "ward-llm", "label": "Ward server", "base_url": "https://10.20.30.40:8443/v1",
         "model": "llama-70b", "domains": ["clinical", "general"]},
        {"id": "legal-llm", "base_url": "https://llm.firm.internal/v1", "model": "qwen",
         "domains": ["legal"]},
    ]}))  # fmt: skip
    monkeypatch.setenv("ENCLAVE_POLICY", str(policy))
    window = make_window(embedder=HashEmbedder(384))
    panel = window.models
    qtbot.waitUntil(lambda: panel.servers.rowCount() == 2, timeout=LONG)
    assert panel.servers_box.isVisibleTo(window.models)
    assert _rows(panel.servers) == [
        ["Ward server", "10.20.30.40:8443", "llama-70b", "clinical, general"],
        ["legal-llm", "llm.firm.internal:443", "qwen", "legal"],
    ]
    assert panel.servers.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers


def test_without_a_policy_the_models_panel_shows_no_server_list(
    make_window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.embedder import HashEmbedder

    monkeypatch.setenv("ENCLAVE_POLICY", str(tmp_path / "no-such-policy.json"))
    window = make_window(embedder=HashEmbedder(384))
    qtbot.waitUntil(lambda: window.models.model.rowCount() > 0, timeout=LONG)
    qtbot.wait(200)
    assert window.models.servers.rowCount() == 0
    assert not window.models.servers_box.isVisibleTo(window.models)
