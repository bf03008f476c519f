"""Model names of the API: which workspace answers, and which local model (or the router).

- `enclave:<workspace>`: that workspace's documents; the router picks the model, as in the app.
- `enclave:<workspace>:<model-id>`: that workspace, answered by that installed model.
- `enclave` (or `enclave::<model-id>`): the workspace `enclave serve --workspace W` serves, or
  the request body's `"workspace"` field.
Workspace ids are letters, digits and '-', so the first ':' after the workspace ends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.serve.errors import ServeError

__all__ = ["PREFIX", "Target", "model_names", "parse_model_name"]

PREFIX = "enclave"


@dataclass(frozen=True)
class Target:
    """What a model name asks for: a workspace (None: not named) and a model (None: routed)."""

    workspace: str | None = None
    model_id: str | None = None


def parse_model_name(name: str, body_workspace: str | None = None) -> Target:
    """The workspace and model a request names. A workspace in the model name and a different
    one in the body's "workspace" field is refused (which was meant cannot be known)."""
    head, _, rest = name.strip().partition(":")
    if head.lower() != PREFIX:
        raise ServeError(
            f"Unknown model {name!r}: Enclave's models are named 'enclave:<workspace>' or "
            "'enclave:<workspace>:<model>' (GET /v1/models lists them).",
            status=404,
            code="model_not_found",
            param="model",
        )
    workspace, _, model_id = rest.partition(":")
    workspace, model_id = workspace.strip(), model_id.strip()
    body = (body_workspace or "").strip()
    if workspace and body and workspace.lower() != body.lower():
        raise ServeError(
            f'The model names workspace {workspace!r} but the request\'s "workspace" field '
            f"names {body!r}: name one.",
            param="workspace",
        )
    return Target(workspace or body or None, model_id or None)


def model_names(workspace_ids: Sequence[str], model_ids: Sequence[str]) -> list[str]:
    """Every workspace with the router's choice, then with each installed model."""
    names: list[str] = []
    for ws in workspace_ids:
        names.append(f"{PREFIX}:{ws}")
        names.extend(f"{PREFIX}:{ws}:{model}" for model in model_ids)
    return names
