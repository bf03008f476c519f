"""Where the person left the window: the last workspace, each workspace's last conversation
and the side tab. A small JSON file, `ui-state.json`, in the config folder next to
settings.json (app.paths: `enclave doctor` prints it); it holds ids and a tab name only, never
content. Read once when the window is built, written (atomically) when one of them changes.

An unreadable or damaged file is ignored: the window starts as on first run. Plain Python;
called on the GUI thread (a few hundred bytes).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILE_NAME = "ui-state.json"


@dataclass
class UiState:
    path: Path | None = None
    workspace: str | None = None
    conversations: dict[str, str] = field(default_factory=dict)  # workspace id -> conversation
    tab: str = ""

    @staticmethod
    def load(folder: Path) -> UiState:
        path = Path(folder) / FILE_NAME
        state = UiState(path)
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return state
        if not isinstance(data, dict):
            return state
        ws = data.get("workspace")
        state.workspace = ws if isinstance(ws, str) else None
        convs = data.get("conversations")
        if isinstance(convs, dict):
            state.conversations = {
                str(k): v for k, v in convs.items() if isinstance(v, str) and isinstance(k, str)
            }
        tab = data.get("tab")
        state.tab = tab if isinstance(tab, str) else ""
        return state

    def conversation(self, workspace_id: str) -> str | None:
        return self.conversations.get(workspace_id)

    def set_workspace(self, workspace_id: str | None) -> None:
        if workspace_id != self.workspace:
            self.workspace = workspace_id
            self.save()

    def set_conversation(self, workspace_id: str, conversation_id: str | None) -> None:
        if self.conversations.get(workspace_id) == conversation_id:
            return
        if conversation_id is None:
            self.conversations.pop(workspace_id, None)
        else:
            self.conversations[workspace_id] = conversation_id
        self.save()

    def set_tab(self, tab: str) -> None:
        if tab != self.tab:
            self.tab = tab
            self.save()

    def save(self) -> None:
        """Write the file atomically; a folder that cannot be written loses only this."""
        if self.path is None:
            return
        data = {"workspace": self.workspace, "conversations": self.conversations, "tab": self.tab}
        tmp = self.path.with_name(self.path.name + ".tmp")
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
