"""Cancelling in the middle of a file ends the run with a summary, not an exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.library.ingest import FileOutcome, IngestSummary, ingest_paths
from models.types import CancelToken
from rag.index import IngestCancelled
from rag.limits import ParseLimits


class CancellingIndex:
    def __init__(self, token: CancelToken) -> None:
        self.token = token

    def ingest_file(self, path: Path, **kwargs: Any) -> Any:
        self.token.cancel()
        raise IngestCancelled()


def test_cancel_mid_file_yields_a_cancelled_summary(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("Some text.")
    token = CancelToken()
    events = list(
        ingest_paths(
            CancellingIndex(token),
            [tmp_path],  # type: ignore[arg-type]
            limits=ParseLimits(),
            cancel=token,
        )
    )
    summary = events[-1]
    assert isinstance(summary, IngestSummary) and summary.cancelled
    assert not any(isinstance(e, FileOutcome) for e in events)
