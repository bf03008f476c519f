"""What `enclave ingest` and `enclave documents` share: the outcome words, an outcome's line as
the terminal shows it, and opening a workspace's index for writing (waiting for another writer)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from app.library.ingest import FileOutcome
from app.library.names import display_name

if TYPE_CHECKING:
    from app.container import Enclave
    from app.library.workspaces import Workspace
    from rag.index_types import DocumentIndex

OUTCOME_WORDS = {
    "indexed": "indexed",
    "indexed_with_warnings": "indexed, with warnings",
    "unchanged": "unchanged, already indexed",
    "rejected": "rejected",
    "needs_password": "needs a password",
}


def writable_index(enclave: Enclave, ws: Workspace) -> DocumentIndex:
    """The workspace's index for writing. While another process holds the workspace (another
    ingest, an answer being written), wait for it, saying so on stderr once."""
    said: list[str] = []

    def say(sentence: str) -> None:
        if not said:
            print(f"{sentence}; waiting for it (Ctrl-C to stop).", file=sys.stderr, flush=True)
            said.append(sentence)

    while True:
        enclave.workspaces.wait_until_free(ws, say)
        index = enclave.index(ws)
        if not enclave.workspaces.serves_read_only(ws.id):
            return index
        enclave.indexes.release(ws.id)  # taken again in between: wait once more


def outcome_line(event: FileOutcome) -> str:
    """An ingest outcome as the terminal shows it; file names and reasons are escaped
    (display_name) so that no name can reorder or hide what is printed."""
    rep = event.report
    shown = event.path.name
    name = display_name(shown)
    if rep.name and rep.name != shown:  # a link, added as the file it points to
        name += f" (as {display_name(rep.name)})"
    detail = f"{rep.pages} pages, {rep.chunk_count} chunks" if rep.chunk_count else ""
    why = display_name(rep.reason or "; ".join(rep.warnings))
    return (
        f"{OUTCOME_WORDS.get(rep.outcome, rep.outcome):>26}  {name}"
        + (f"  ({detail})" if detail else "")
        + (f"\n{'':>28}{why}" if why else "")
    )
