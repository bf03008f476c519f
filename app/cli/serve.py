"""`enclave serve`: Enclave as an OpenAI-compatible API for other tools, on loopback (app.serve).

`enclave serve --new-key` makes the API key, keeps it in the OS keyring and shows it once;
`enclave serve` then answers requests that carry it. Where there is no keyring,
`--session-key` makes a key that lives only while this server runs (shown once, kept nowhere).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.cli.output import CliError

if TYPE_CHECKING:
    from app.container import Enclave
    from app.frontier.keys import ApiKey

DEFAULT_PORT = 8765


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve", help="answer other tools through an OpenAI-compatible API on this computer"
    )
    p.add_argument("--workspace", "-w", help="serve this workspace only (default: all)")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument(
        "--new-key",
        action="store_true",
        help="make a new API key, keep it in the OS keyring, show it once, and exit",
    )
    keys.add_argument(
        "--session-key",
        action="store_true",
        help="no keyring here: make a key for this server's run only and show it once",
    )
    p.add_argument(
        "--max-pending",
        type=int,
        default=16,
        help="answers under way at once; more requests get 429 (default 16)",
    )
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace, enclave: Enclave) -> int:
    from app.serve.api_key import KeyCheck

    if args.new_key:
        return new_key(enclave)
    from app.serve.backend import EnclaveBackend
    from app.serve.listen import listening_socket, serve_forever
    from app.serve.server import create_app

    if args.max_pending < 1:
        raise CliError("--max-pending must be at least 1.")
    sock = listening_socket(args.host, args.port, enclave.policy)  # refused before any key
    try:
        backend = EnclaveBackend(enclave, args.workspace, max_pending=args.max_pending)
        key = api_key(args, enclave)
        print("Loading the search model and the default chat model…", file=sys.stderr, flush=True)
        backend.warm_up()
        host, port = sock.getsockname()[:2]
        url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/v1"
        served = ", ".join(w.id for w in backend.workspaces()) or "none yet"

        def ready() -> None:
            print(f"Enclave API on {url} (workspaces: {served}); Ctrl-C stops.", flush=True)

        serve_forever(create_app(backend, KeyCheck(key)), sock, ready)
        backend.answering.cancel_all()
    finally:
        sock.close()
    print("Stopped serving.", file=sys.stderr)
    return 0


def new_key(enclave: Enclave) -> int:
    from app.frontier.keys import NoSecureStorage
    from app.serve.api_key import store_new_key

    try:
        key = store_new_key(enclave.keys)
    except NoSecureStorage:
        raise CliError(
            "This computer has no secure key store (no OS keyring), so Enclave will not save an "
            "API key; run `enclave serve --session-key` for a key that lives only while the "
            "server runs."
        ) from None
    print(key, flush=True)
    print(
        "That is the API key of `enclave serve` (it replaces any earlier one). It is shown only "
        "this once and kept in the OS keyring; give it to the tools that use the API as "
        "'Authorization: Bearer <key>'.",
        file=sys.stderr,
    )
    return 0


def api_key(args: argparse.Namespace, enclave: Enclave) -> ApiKey:
    from app.frontier.keys import ApiKey
    from app.serve.api_key import make_key, stored_key

    if args.session_key:
        key = make_key()
        print(key, flush=True)
        print(
            "That is this server's API key, shown only this once and kept nowhere: it ends "
            "when the server stops.",
            file=sys.stderr,
        )
        return ApiKey(key)
    stored = stored_key(enclave.keys)
    if stored is None:
        raise CliError(
            "There is no API key for `enclave serve` yet: run `enclave serve --new-key` (it is "
            "shown once and kept in the OS keyring), or `--session-key` where there is no "
            "keyring."
        )
    return stored
