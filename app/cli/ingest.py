"""`enclave ingest PATH... --workspace W [--watch]`: add files and folders, or keep them in sync.

A plain ingest is resumable: killed (even with kill -9) and started again, it skips every file
already committed and unchanged (the index compares the sha256 with the live version) and goes
on with the rest. With --watch it then polls the folders (app.library.sync) until Ctrl-C, adding,
re-indexing and removing documents as files are added, changed, deleted or renamed; Ctrl-C ends
it cleanly (exit 130) after the file being indexed, a second Ctrl-C at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from app.cli.ingest_progress import ProgressLine
from app.cli.ingest_shared import OUTCOME_WORDS, outcome_line, writable_index
from app.library.ingest import FileOutcome, IngestProgress, IngestSummary, ingest_paths
from app.library.names import display_name
from app.library.sync import FileRemoved, FolderSync, SyncEvent, watch
from models.types import CancelToken

if TYPE_CHECKING:
    from app.container import Enclave

EXIT_INTERRUPTED = 130


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--watch",
        action="store_true",
        help="keep the workspace in sync with these folders until Ctrl-C",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="seconds between looks at the folders with --watch (default 2)",
    )


def run_ingest(args: argparse.Namespace, enclave: Enclave) -> int:
    if args.interval <= 0:
        from app.cli.output import CliError

        raise CliError("--interval must be a positive number of seconds.")
    ws = enclave.workspaces.require(args.workspace, create=args.create)
    index = writable_index(enclave, ws)
    printer = _Printer(args.json, ws.name)
    if not args.watch:
        events = ingest_paths(
            index, args.paths, limits=enclave.parse_limits, password=args.password
        )
        for event in events:
            printer.show(event)
        return 1 if printer.failed else 0
    from app.cli.chat import ctrl_c_cancels

    sync = FolderSync(index, args.paths, limits=enclave.parse_limits, password=args.password)
    cancel = CancelToken()
    shown = ", ".join(display_name(str(p)) for p in sync.roots)
    with ctrl_c_cancels(cancel):
        try:
            for change in watch(sync, interval_s=args.interval, cancel=cancel):
                printer.show(change)
                if isinstance(change, IngestSummary) and sync.rounds == 1 and not args.json:
                    print(f"Watching {shown} (Ctrl-C to stop).", file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            pass
    printer.progress.clear()
    count = len(index.documents())
    print(
        f"Stopped watching; {count} documents in workspace '{ws.name}'.",
        file=sys.stderr,
        flush=True,
    )
    return EXIT_INTERRUPTED


class _Printer:
    """Prints sync and ingest events as `enclave ingest` shows them (text or JSON lines)."""

    def __init__(self, as_json: bool, workspace: str) -> None:
        self.as_json = as_json
        self.workspace = workspace
        self.failed = 0
        self.progress = ProgressLine()

    def show(self, event: SyncEvent) -> None:
        if isinstance(event, IngestProgress):
            if event.total:
                self.progress.update(event)
        elif isinstance(event, FileOutcome):
            self._outcome(event)
        elif isinstance(event, FileRemoved):
            self.progress.clear()
            if self.as_json:
                self._json(path=str(event.path), document=event.name, outcome="removed")
            else:
                print(f"{'removed':>26}  {display_name(event.name)}", flush=True)
        elif isinstance(event, IngestSummary) and not self.as_json:
            self.progress.clear()
            if event.total or not event.cancelled:
                counts = ", ".join(
                    f"{n} {OUTCOME_WORDS.get(k, k)}" for k, n in event.counts.items()
                )
                print(
                    f"\n{event.total} files in workspace '{self.workspace}': "
                    f"{counts or 'nothing to do'}. "
                    f"{event.pages} pages, {event.chunks} chunks in {event.seconds:.1f} s.",
                    flush=True,
                )

    def _outcome(self, event: FileOutcome) -> None:
        rep = event.report
        if rep.outcome in ("rejected", "needs_password"):
            self.failed += 1
        if self.as_json:
            self._json(
                path=str(event.path),
                document=rep.name,
                outcome=rep.outcome,
                chunks=rep.chunk_count,
                pages=rep.pages,
                reason=rep.reason,
                warnings=rep.warnings,
            )
        else:
            self.progress.clear()
            print(outcome_line(event), flush=True)

    @staticmethod
    def _json(**fields: object) -> None:
        print(json.dumps(fields), flush=True)
