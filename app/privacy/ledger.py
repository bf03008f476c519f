"""The audit ledger: a local, append-only, hash-chained record of every attempt to leave.

One JSON object per line in `Paths.data / "audit" / "ledger.jsonl"`. Each line carries `prev` (the
previous line's hash, "0"*64 for the first) and `hash` = sha256 of the line's canonical JSON without
`hash`. Editing, inserting or deleting a line breaks the chain from that line on, and `verify()`
names the first bad line.

What is recorded: time, workspace id, destination host:port, kind, allowed or refused, bytes out and
in, redaction counts per type, the request body's sha256, the outcome. Never content: no prompt, no
document text, no answer, no key. `record()` refuses fields outside that list.

Appends are serialised by a thread lock and, on POSIX, an flock on the file; each line is flushed
and fsync'ed before `record()` returns. `ledger_recorder()` plugs the ledger into the egress guard;
its callback runs on whichever thread opened the socket.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import EnclaveError

if TYPE_CHECKING:
    from app.paths import Paths
    from app.privacy.egress import EgressEvent

GENESIS = "0" * 64
LEDGER_FILENAME = "ledger.jsonl"

# The only fields a line may hold: ids, counts, hashes, routes. No free text from the user.
_ALLOWED_FIELDS = {
    "kind",  # "egress" (a socket or DNS attempt seen by the guard) or "frontier_call"
    "workspace",
    "destination",  # host:port
    "connection",  # "connect" or "dns" for egress lines
    "allowed",
    "endpoint",  # the policy's endpoint id
    "model",
    "outcome",  # answered, unauthorized, timed_out, no_consent, refused_by_policy, ...
    "bytes_out",
    "bytes_in",
    "redactions",  # {"PERSON": 2, "DATE": 1, ...}
    "request_sha256",
}


class LedgerError(EnclaveError):
    """The ledger cannot be written (the attempt it would record is refused by the caller)."""


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    lines: int
    first_bad_line: int | None = None  # 1-based
    reason: str = ""

    def message(self) -> str:
        if self.ok:
            return f"The audit ledger is intact ({self.lines} entries, hash chain verified)."
        return (
            f"The audit ledger has been altered: line {self.first_bad_line} {self.reason}. "
            "Entries from that line on cannot be trusted."
        )


@dataclass(frozen=True)
class LedgerSummary:
    """What the privacy indicator shows."""

    entries: int
    allowed_outbound: int  # egress attempts let through (non-loopback connections)
    refused: int  # egress attempts refused by the guard or calls refused before any socket
    frontier_calls: int  # frontier calls that sent a request
    last_outbound: dict[str, Any] | None  # the last allowed egress or sent frontier call

    @property
    def anything_left(self) -> bool:
        return self.allowed_outbound > 0 or self.frontier_calls > 0


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


class AuditLedger:
    """Append-only hash-chained JSON lines at `path`. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def for_paths(cls, paths: Paths) -> AuditLedger:
        return cls(paths.data / "audit" / LEDGER_FILENAME)

    # -- writing ---------------------------------------------------------------------------
    def record(self, **fields: Any) -> dict[str, Any]:
        """Append one entry (time, seq, prev and hash are added). Returns the entry as written."""
        unknown = set(fields) - _ALLOWED_FIELDS
        if unknown:
            raise ValueError(f"ledger fields not allowed: {sorted(unknown)}")
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a+b") as handle:
                    _lock_file(handle)
                    try:
                        seq, prev = _last_seq_and_hash(handle)
                        entry: dict[str, Any] = {
                            "seq": seq + 1,
                            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                            **fields,
                            "prev": prev,
                        }
                        entry["hash"] = _entry_hash(entry)
                        handle.seek(0, os.SEEK_END)
                        handle.write(_canonical(entry) + b"\n")
                        handle.flush()
                        os.fsync(handle.fileno())
                    finally:
                        _unlock_file(handle)
            except OSError as exc:
                raise LedgerError(f"The audit ledger {self.path} cannot be written: {exc}") from exc
        return entry

    # -- reading ---------------------------------------------------------------------------
    def entries(self) -> Iterator[dict[str, Any]]:
        """Every parseable entry, oldest first (use `verify()` to know whether to trust them)."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict):
                    yield entry

    def verify(self) -> VerifyResult:
        """Check every line's hash and its link to the line before."""
        if not self.path.exists():
            return VerifyResult(ok=True, lines=0)
        prev = GENESIS
        count = 0
        with open(self.path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                count = number
                if not raw.endswith(b"\n"):
                    return VerifyResult(False, number, number, "is incomplete (no line end)")
                try:
                    entry = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    return VerifyResult(False, number, number, "is not valid JSON")
                if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
                    return VerifyResult(False, number, number, "has no hash")
                if entry.get("prev") != prev:
                    return VerifyResult(
                        False,
                        number,
                        number,
                        "does not follow the line before it (a line was "
                        "removed, inserted or reordered)",
                    )
                if _entry_hash(entry) != entry["hash"]:
                    return VerifyResult(False, number, number, "was edited (its hash is wrong)")
                if entry.get("seq") != number:
                    return VerifyResult(False, number, number, "has the wrong sequence number")
                prev = entry["hash"]
        return VerifyResult(ok=True, lines=count)

    def summary(self) -> LedgerSummary:
        entries = allowed = refused = calls = 0
        last: dict[str, Any] | None = None
        for entry in self.entries():
            entries += 1
            kind = entry.get("kind")
            if kind == "egress":
                if entry.get("allowed"):
                    allowed += 1
                    last = entry
                else:
                    refused += 1
            elif kind == "frontier_call":
                if entry.get("allowed"):
                    calls += 1
                    last = entry
                else:
                    refused += 1
        return LedgerSummary(entries, allowed, refused, calls, last)


def ledger_recorder(
    ledger: AuditLedger, workspace_id_getter: Callable[[], str | None]
) -> Callable[[EgressEvent], None]:
    """An egress-guard recorder that appends each attempt. Runs on the thread opening the socket.

    If the ledger cannot be written the exception propagates into the guard, so the connection
    fails: nothing leaves without a record.
    """

    def record(event: EgressEvent) -> None:
        destination = event.host if event.port is None else f"{event.host}:{event.port}"
        ledger.record(
            kind="egress",
            workspace=workspace_id_getter(),
            destination=destination,
            connection=event.kind,
            allowed=event.allowed,
        )

    return record


def _last_seq_and_hash(handle: Any) -> tuple[int, str]:
    """The last line's seq and hash, reading only the file's tail."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return 0, GENESIS
    block = 4096
    data = b""
    pos = size
    while pos > 0:
        step = min(block, pos)
        pos -= step
        handle.seek(pos)
        data = handle.read(step) + data
        if data.rstrip(b"\n").count(b"\n") >= 1 or pos == 0:
            break
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        entry = json.loads(last)
        return int(entry["seq"]), str(entry["hash"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise OSError(
            "its last line is damaged; run `enclave audit --verify` and keep a copy of the file"
        ) from exc


def _lock_file(handle: Any) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: the thread lock is enough for one app process
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _unlock_file(handle: Any) -> None:
    try:
        import fcntl
    except ImportError:
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
