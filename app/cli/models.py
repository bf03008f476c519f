"""`enclave models list|import|verify|remove`.

`verify` re-hashes every model file, then asks each intact model a short probe question: a
degenerate reply (empty, only punctuation, one token repeated) fails the model and the router
stops choosing it; a healthy reply clears an earlier verdict. Exit 1 when any model fails.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.output import progress_line

if TYPE_CHECKING:
    from app.container import Enclave


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", help="list, import, verify or remove local models")
    msub = p.add_subparsers(dest="action", required=True)
    q = msub.add_parser("list")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_list)
    q = msub.add_parser("import", help="import a GGUF file (or a folder with a manifest.json)")
    q.add_argument("file", type=Path)
    q.add_argument(
        "--domain", action="append", dest="domains", help="clinical, legal or general (repeatable)"
    )
    q.add_argument("--licence")
    q.add_argument("--id", dest="model_id")
    q.set_defaults(func=cmd_import)
    q = msub.add_parser(
        "verify", help="re-check every model file's sha256 and that its answers are not degenerate"
    )
    q.add_argument("model_id", nargs="?")
    q.set_defaults(func=cmd_verify)
    q = msub.add_parser("remove")
    q.add_argument("model_id")
    q.set_defaults(func=cmd_remove)


def _size(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n < 1e9 else f"{n / 1e9:.2f} GB"


def cmd_list(args: argparse.Namespace, enclave: Enclave) -> int:
    catalog = enclave.catalog
    for rec in catalog.list():
        health = catalog.health(rec)
        if args.json:
            print(json.dumps({**rec.__dict__, "health": health.status if health else None}))
        else:
            unused = "" if health is None or health.ok else "  NOT USED: degenerate answers"
            print(
                f"{rec.id}  {','.join(rec.domains)}  {rec.quantization}  {_size(rec.size_bytes)}"
                f"  ctx {rec.context_length}  licence {rec.licence}  ({rec.source}){unused}"
            )
    return 0


def cmd_import(args: argparse.Namespace, enclave: Enclave) -> int:
    def progress(done: int, total: int) -> None:
        progress_line(done, total, args.file.name, "checking sha256")

    if args.file.is_dir():
        records = enclave.catalog.import_manifest(args.file)
    else:
        records = [
            enclave.catalog.import_file(
                args.file,
                domains=tuple(args.domains or ["general"]),
                licence=args.licence,
                model_id=args.model_id,
                progress=progress,
            )
        ]
    progress_line(None, None, "", "")
    for rec in records:
        print(
            f"Imported {rec.id} ({rec.architecture}, {rec.quantization}, "
            f"{_size(rec.size_bytes)}), domains: {', '.join(rec.domains)}."
        )
    return 0


def cmd_verify(args: argparse.Namespace, enclave: Enclave) -> int:
    bad = 0
    for result in enclave.catalog.verify(args.model_id):
        reason = result.reason if not result.ok else _probe(enclave, result.model_id)
        bad += bool(reason)
        print(
            f"{'FAILED' if reason else 'ok':>6}  {result.model_id}"
            + (f": {reason}" if reason else "")
        )
    return 1 if bad else 0


def _probe(enclave: Enclave, model_id: str) -> str:
    """ "" when the model answers the probe question in words, else why not (in words)."""
    from models.errors import ModelError

    try:
        health = enclave.engines.probe(model_id)
    except ModelError as exc:
        return str(exc)
    if health.ok:
        return ""
    return f"its answers are degenerate ({health.reason}); Enclave no longer routes questions to it"


def cmd_remove(args: argparse.Namespace, enclave: Enclave) -> int:
    enclave.catalog.remove(args.model_id)
    print(f"Removed {args.model_id}.")
    return 0
