"""`enclave ingest`, `enclave search`, `enclave documents list|remove`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli.ingest import add_arguments, run_ingest
from app.cli.ingest_shared import OUTCOME_WORDS
from app.cli.output import CliError

if TYPE_CHECKING:
    from app.container import Enclave
    from app.library.workspaces import Workspace
    from rag.index_types import DocumentIndex
    from rag.types import Hit


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ingest", help="add files or folders to a workspace")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--workspace", "-w", required=True)
    p.add_argument("--create", action="store_true", help="create the workspace if it is new")
    p.add_argument("--password", help="password for protected PDFs (applies to every file given)")
    p.add_argument("--json", action="store_true", help="one JSON line per file")
    add_arguments(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="search a workspace's documents (no model needed)")
    p.add_argument("query", nargs="?")
    p.add_argument("--workspace", "-w", required=True)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--json", action="store_true")
    p.add_argument("--queries", type=Path, help="a file with one query per line (JSON lines out)")
    p.set_defaults(func=cmd_search)

    docs = sub.add_parser("documents", help="list or remove a workspace's documents")
    dsub = docs.add_subparsers(dest="action", required=True)
    p = dsub.add_parser("list")
    p.add_argument("--workspace", "-w", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_documents_list)
    p = dsub.add_parser("remove")
    p.add_argument("document", help="document id, name or path")
    p.add_argument("--workspace", "-w", required=True)
    p.set_defaults(func=cmd_documents_remove)


def cmd_ingest(args: argparse.Namespace, enclave: Enclave) -> int:
    return run_ingest(args, enclave)  # progress, resume and --watch live in app.cli.ingest


def reading_index(enclave: Enclave, ws: Workspace) -> DocumentIndex:
    """The workspace's index for reading. While another process writes it, the documents
    committed so far, searched by their words, at once (a note on stderr says so)."""
    busy = enclave.workspaces.busy(ws)
    if busy is None:
        return enclave.index(ws)
    print(f"{busy}: searching the documents indexed so far, by their words.", file=sys.stderr)
    return enclave.workspaces.reader(ws)


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "document": hit.document_name,
        "path": hit.path,
        "page": hit.chunk.page,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "text": hit.chunk.text,
        "score": round(hit.score, 6),
    }


def cmd_search(args: argparse.Namespace, enclave: Enclave) -> int:
    if (args.query is None) == (args.queries is None):
        raise CliError("Give a query, or --queries FILE with one query per line.")
    index = reading_index(enclave, enclave.workspaces.get(args.workspace))
    if args.queries is not None:
        lines = args.queries.read_text(encoding="utf-8").splitlines()
        for query in (q.strip() for q in lines):
            if query:
                hits = index.search(query, k=args.k, mode=args.mode)
                print(json.dumps({"query": query, "hits": [hit_json(h) for h in hits]}), flush=True)
        return 0
    hits = index.search(args.query, k=args.k, mode=args.mode)
    for n, hit in enumerate(hits, start=1):
        if args.json:
            print(json.dumps(hit_json(hit)))
        else:
            snippet = " ".join(hit.chunk.text.split())[:200]
            print(
                f"[{n}] {hit.document_name}, page {hit.chunk.page} "
                f"(score {hit.score:.3f})\n    {snippet}"
            )
    if not hits and not args.json:
        print("No matching passages.", file=sys.stderr)
    return 0


def cmd_documents_list(args: argparse.Namespace, enclave: Enclave) -> int:
    # The manifest alone: no search model, no chromadb, and no lock (fast, even mid-ingest).
    docs = enclave.workspaces.reader(enclave.workspaces.get(args.workspace)).documents()
    for d in docs:
        if args.json:
            print(
                json.dumps(
                    {
                        "id": d.id,
                        "name": d.name,
                        "path": d.path,
                        "status": d.status,
                        "chunks": d.chunk_count,
                        "pages": d.pages,
                        "reason": d.reason,
                        "warnings": d.warnings,
                        "sha256": d.sha256,
                    }
                )
            )
        else:
            print(
                f"{d.id}  {OUTCOME_WORDS.get(d.status, d.status):>22}  {d.chunk_count:>5} chunks"
                f"  {d.name}" + (f"\n{'':>14}{d.reason}" if d.reason else "")
            )
    if not docs and not args.json:
        print("No documents yet. Add some with: enclave ingest PATH --workspace NAME")
    return 0


def cmd_documents_remove(args: argparse.Namespace, enclave: Enclave) -> int:
    index = enclave.index(enclave.workspaces.get(args.workspace))
    for d in index.documents():
        if args.document in (d.id, d.name, d.path):
            index.remove(d.id)
            print(f"Removed {d.name} from workspace '{args.workspace}'.")
            return 0
    raise CliError(f"No document {args.document!r} in workspace '{args.workspace}'.")
