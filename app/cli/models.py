"""`enclave models list|import|verify|remove|probe`.

`list` shows the installed models and the organisation's inference servers that the
administrator's policy names (with their host). `probe SERVER` (an id or a base URL) asks one
of those servers the test question directly, without the local fallback; a URL the policy does
not name is refused in one sentence and nothing is sent. `key SERVER` stores a server's API key
in the OS keyring (read from stdin; never echoed, never written to a file).

`verify` re-hashes every model file, then asks each intact model a short probe question: a
degenerate reply (empty, only punctuation, one token repeated) fails the model and the router
stops choosing it; a healthy reply clears an earlier verdict. Exit 1 when any model fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.output import progress_line

if TYPE_CHECKING:
    from app.container import Enclave
    from models.engine import ChatEngine


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "models", help="list, import, verify or remove local models; probe inference servers"
    )
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
    q = msub.add_parser(
        "probe", help="ask an inference server from the policy a test question (id or base URL)"
    )
    q.add_argument("server", help="the server's id in the policy, or its base URL")
    q.set_defaults(func=cmd_probe)
    q = msub.add_parser(
        "key", help="store an inference server's API key in the OS keyring (read from stdin)"
    )
    q.add_argument("server", help="the server's id in the policy")
    q.set_defaults(func=cmd_key)


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
    _list_servers(enclave, as_json=args.json)
    return 0


def _list_servers(enclave: Enclave, *, as_json: bool) -> None:
    """The policy's inference servers, after the local models (a broken policy says why)."""
    policy = enclave.policy
    if policy.problem:
        print(f"enclave: {policy.problem}", file=sys.stderr)
    local = {rec.id for rec in enclave.catalog.list()}
    for server in policy.inference_servers:
        shadowed = server.id in local
        if as_json:
            print(json.dumps({
                "id": server.id, "kind": "inference_server", "host": server.destination,
                "base_url": server.base_url, "model": server.model,
                "domains": list(server.domains), "tiers": list(server.tiers),
                "redaction": server.redaction, "source": "organisation",
                "shadowed_by_local_model": shadowed,
            }))  # fmt: skip
            continue
        routes = ",".join(server.domains) or "-"
        tiers = f"  tiers {','.join(server.tiers)}" if server.tiers else ""
        note = "  NOT USED: an installed model has the same id" if shadowed else ""
        print(
            f"{server.id}  {routes}  inference server at {server.destination}  "
            f"model {server.model}{tiers}  redaction {'on' if server.redaction else 'off'}  "
            f"(organisation){note}"
        )


def cmd_probe(args: argparse.Namespace, enclave: Enclave) -> int:
    """Ask the server the probe question; exit 1 when it does not answer in words."""
    import time

    from app.chat.engines import degenerate_reason, probe_reply
    from models.remote_engine import RemoteEngineError

    policy = enclave.policy
    if "://" in args.server:
        server = enclave.servers.engine_for_url(args.server, _no_fallback).server
    else:
        server = policy.inference_server(args.server)
    started = time.monotonic()
    try:
        engine = enclave.servers.remote(server)
        try:
            reason = degenerate_reason(probe_reply(engine))
        finally:
            engine.close()
    except RemoteEngineError as exc:
        reason = str(exc)
    if reason:
        print(f"FAILED  {server.id} at {server.destination}: {reason}")
        return 1
    seconds = time.monotonic() - started
    print(f"    ok  {server.id} at {server.destination} answered in {seconds:.1f} s")
    return 0


def cmd_key(args: argparse.Namespace, enclave: Enclave) -> int:
    """Read the key (without echo on a terminal) and keep it in the OS keyring only."""
    import getpass

    server = enclave.policy.inference_server(args.server)  # PolicyRefusal: one sentence
    if sys.stdin.isatty():
        key = getpass.getpass(f"API key for {server.id} ({server.destination}): ")
    else:
        key = sys.stdin.readline()
    enclave.keys.set_api_key(server.id, key)  # NoSecureStorage / KeyStoreError: one sentence
    print(f"The API key for {server.id} is stored in the OS keyring.")
    return 0


def _no_fallback() -> ChatEngine:
    raise AssertionError("a probe never falls back to a local model")


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
