"""The audit ledger: a local, append-only, hash-chained record of every attempt to leave.

One JSON object per line in `Paths.data / "audit" / "ledger.jsonl"`. Each line carries `prev` (the
previous line's hash, "0"*64 for the first) and `hash` = sha256 of the line's canonical JSON without
`hash`. Editing, inserting or deleting a line breaks the chain from that line on, and `verify()`
names the first bad line.

A chain alone cannot show that lines were cut off its end (or that the whole file was deleted):
what is left is still a valid chain. So after each append the ledger also writes a small head
record, `ledger.head.json` beside it (the last entry's seq and hash, written atomically), and
`verify()` checks that the ledger still reaches that entry. Deleting the ledger's last lines, or
the ledger file, is reported; deleting both files is not detectable (an empty, new ledger is
what remains), and neither is someone who rewrites both consistently. If the head record is
missing while the ledger has entries (an older Enclave, or it was deleted), the next entry is
marked `head_missing`, so the gap stays visible in the chain itself.

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
import uuid
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
HEAD_SUFFIX = ".head.json"  # ledger.jsonl -> ledger.head.json

# The only fields a line may hold: ids, counts, hashes, routes. No free text from the user.
_ALLOWED_FIELDS = {
    "kind",  # "egress" (a socket or DNS attempt seen by the guard), "frontier_call" or
    # "inference_call" (the organisation's own inference server, app.chat.servers)
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
    first_bad_line: int | None = None  # 1-based; None when the lines are fine but the end is not
    reason: str = ""

    def message(self) -> str:
        if self.ok:
            return f"The audit ledger is intact ({self.lines} entries, hash chain verified)."
        if self.first_bad_line is None:
            return f"The audit ledger is not complete: {self.reason}."
        return (
            f"The audit ledger has been altered: line {self.first_bad_line} {self.reason}. "
            "Entries from that line on cannot be trusted."
        )


@dataclass(frozen=True)
class Head:
    """The head record: the seq and hash of the last entry appended."""

    seq: int
    hash: str


@dataclass(frozen=True)
class LedgerSummary:
    """What the privacy indicator shows. Counts follow the entries' own outcome and bytes."""

    entries: int
    allowed_outbound: int  # connections let through that no recorded frontier call accounts for
    refused: int  # egress attempts refused by the guard or calls refused before any socket
    frontier_calls: int  # frontier calls that sent their request (bytes out > 0, or not recorded)
    last_outbound: dict[str, Any] | None  # the last sent frontier call or unaccounted connection
    frontier_attempts: int = 0  # approved calls that sent nothing (unreachable, blocked): 0 bytes
    connections_allowed: int = 0  # every connection or DNS attempt the guard let through

    @property
    def anything_left(self) -> bool:
        return self.allowed_outbound > 0 or self.frontier_calls > 0


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


class AuditLedger:
    """Append-only hash-chained JSON lines at `path`, anchored by a head record. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.head_path = path.with_name(path.name.removesuffix(".jsonl") + HEAD_SUFFIX)
        self._lock = threading.Lock()

    @classmethod
    def for_paths(cls, paths: Paths) -> AuditLedger:
        return cls(paths.data / "audit" / LEDGER_FILENAME)

    # -- writing ---------------------------------------------------------------------------
    def record(self, **fields: Any) -> dict[str, Any]:
        """Append one entry (time, seq, prev and hash are added). Returns the entry as written.

        Refuses (LedgerError) when the ledger no longer reaches its head record: appending then
        would start a fresh chain over the removed entries and hide their removal.
        """
        unknown = set(fields) - _ALLOWED_FIELDS
        if unknown:
            raise ValueError(f"ledger fields not allowed: {sorted(unknown)}")
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a+b") as handle:
                    _lock_file(handle)
                    try:
                        entry = self._append(handle, fields)
                    finally:
                        _unlock_file(handle)
            except OSError as exc:
                raise LedgerError(f"The audit ledger {self.path} cannot be written: {exc}") from exc
        return entry

    def _append(self, handle: Any, fields: dict[str, Any]) -> dict[str, Any]:
        last = _last_entry(handle)
        head = _read_head(self.head_path)
        _check_tail(last, head)
        entry: dict[str, Any] = {
            "seq": (last["seq"] if last else 0) + 1,
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            **fields,
        }
        if last is not None and head is None:
            entry["head_missing"] = True  # the end before this entry was not anchored
        entry["prev"] = last["hash"] if last else GENESIS
        entry["hash"] = _entry_hash(entry)
        handle.seek(0, os.SEEK_END)
        handle.write(_canonical(entry) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
        _write_head(self.head_path, Head(entry["seq"], entry["hash"]))
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

    def head(self) -> Head | None:
        """The head record, or None when there is none. Raises OSError when it is damaged."""
        return _read_head(self.head_path)

    def verify(self) -> VerifyResult:
        """Check every line's hash, its link to the line before, and that the ledger still
        reaches the entry its head record names (nothing was cut off its end)."""
        try:
            head = _read_head(self.head_path)  # read first: appends may follow while we read
        except OSError as exc:
            return VerifyResult(False, 0, None, f"its head record cannot be read ({exc})")
        if not self.path.exists():
            if head is None:
                return VerifyResult(ok=True, lines=0)
            return VerifyResult(
                False, 0, None,
                f"the ledger file is missing, but its head record says {head.seq} entries "
                "were written (the file was deleted)",
            )  # fmt: skip
        chain = _check_chain(self.path, head)
        if isinstance(chain, VerifyResult):
            return chain
        count, head_hash, head_missing_at = chain
        return _check_end(count, head, head_hash, head_missing_at, self.head_path.name)

    def summary(self) -> LedgerSummary:
        """Counts for the privacy indicator. A frontier call that sent 0 bytes (unreachable,
        blocked) is an attempt, not a sent call; the connections a recorded call opened are
        that call's, not extra outbound traffic."""
        tally = _Tally()
        for entry in self.entries():
            tally.add(entry)
        return tally.result()


class _Tally:
    """Counts entries for `summary()`; allowed connections wait for the call that opened them."""

    def __init__(self) -> None:
        self.entries = self.refused = self.calls = self.attempts = self.connections = 0
        self.pending: dict[Any, list[tuple[int, dict[str, Any]]]] = {}  # workspace -> egress
        self.last_call: tuple[int, dict[str, Any]] | None = None

    def add(self, entry: dict[str, Any]) -> None:
        self.entries += 1
        kind = entry.get("kind")
        if kind == "egress":
            if entry.get("allowed"):
                self.connections += 1
                self.pending.setdefault(entry.get("workspace"), []).append((self.entries, entry))
            else:
                self.refused += 1
        elif kind in ("frontier_call", "inference_call"):
            self.pending.pop(entry.get("workspace"), None)  # its connections belong to it
            if not entry.get("allowed"):
                self.refused += 1
            elif _sent_nothing(entry):
                self.attempts += 1
            else:
                self.calls += 1
                self.last_call = (self.entries, entry)

    def result(self) -> LedgerSummary:
        orphans = [item for items in self.pending.values() for item in items]
        candidates = [*orphans, *([self.last_call] if self.last_call else [])]
        last = max(candidates, key=lambda item: item[0])[1] if candidates else None
        return LedgerSummary(
            self.entries, len(orphans), self.refused, self.calls, last,
            self.attempts, self.connections,
        )  # fmt: skip


def _sent_nothing(entry: dict[str, Any]) -> bool:
    """True only when the entry itself says 0 bytes went out (unknown counts as sent)."""
    bytes_out = entry.get("bytes_out")
    return isinstance(bytes_out, int) and bytes_out == 0


_Walk = tuple[int, str | None, int | None]  # line count, hash at the head's seq, first head_missing


def _check_chain(path: Path, head: Head | None) -> VerifyResult | _Walk:
    """Walk the lines: a VerifyResult naming the first bad one, or (line count, the hash of the
    entry the head names, the first entry marked head_missing)."""
    prev = GENESIS
    count = 0
    head_hash: str | None = None
    head_missing_at: int | None = None
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            count = number
            problem = _line_problem(raw, number, prev)
            if problem:
                return VerifyResult(False, number, number, problem)
            entry = json.loads(raw)
            prev = entry["hash"]
            if head is not None and number == head.seq:
                head_hash = prev
            if entry.get("head_missing") and head_missing_at is None:
                head_missing_at = number
    return count, head_hash, head_missing_at


def _line_problem(raw: bytes, number: int, prev: str) -> str:
    """What is wrong with one line ("" when nothing is)."""
    if not raw.endswith(b"\n"):
        return "is incomplete (no line end)"
    try:
        entry = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "is not valid JSON"
    if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
        return "has no hash"
    if entry.get("prev") != prev:
        return "does not follow the line before it (a line was removed, inserted or reordered)"
    if _entry_hash(entry) != entry["hash"]:
        return "was edited (its hash is wrong)"
    if entry.get("seq") != number:
        return "has the wrong sequence number"
    return ""


def _check_end(
    count: int, head: Head | None, head_hash: str | None, head_missing_at: int | None, name: str
) -> VerifyResult:
    """Does a chain of `count` good lines reach the entry the head record names?"""
    if head is None and count > 0:
        return VerifyResult(
            False, count, None,
            f"its head record {name} is missing, so entries removed from its end cannot be "
            "detected (move both files aside, keeping them, to start a new ledger)",
        )  # fmt: skip
    if head is not None and count < head.seq:
        missing = head.seq - count
        ends = f"it ends at entry {count}" if count else "it is empty"
        return VerifyResult(
            False, count, None,
            f"{ends}, but its head record says {head.seq} entries were written: the last "
            f"{missing} {'entry was' if missing == 1 else 'entries were'} removed",
        )  # fmt: skip
    if head is not None and head_hash != head.hash:
        return VerifyResult(
            False, count, None,
            f"entry {head.seq} is not the one its head record names: the end of the ledger "
            "was rewritten",
        )  # fmt: skip
    if head_missing_at is not None:
        return VerifyResult(
            False, count, None,
            f"its head record was missing when entry {head_missing_at} was written (an older "
            "Enclave, or the record was deleted), so entries removed from its end before then "
            "cannot be ruled out",
        )  # fmt: skip
    return VerifyResult(ok=True, lines=count)


def _check_tail(last: dict[str, Any] | None, head: Head | None) -> None:
    """Raise OSError (a clause) unless the ledger's last entry is the head's, or the one just
    after it (an append whose head update was interrupted)."""
    if head is None:
        return
    if last is None:
        raise OSError(
            f"the ledger is empty or missing, but its head record says {head.seq} entries were "
            "written; run `enclave audit --verify` and keep a copy of both files"
        )
    if (last["seq"], last["hash"]) == (head.seq, head.hash):
        return
    if last["seq"] == head.seq + 1 and last.get("prev") == head.hash:
        return
    raise OSError(
        f"it ends at entry {last['seq']}, but its head record names entry {head.seq}: entries "
        "were removed or rewritten; run `enclave audit --verify` and keep a copy of both files"
    )


def _read_head(path: Path) -> Head | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
        return Head(int(data["seq"]), str(data["hash"]))
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise OSError(f"its head record {path.name} is damaged") from exc


def _write_head(path: Path, head: Head) -> None:
    """Replace the head record atomically: a temporary file, fsync, os.replace."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(_canonical({"seq": head.seq, "hash": head.hash}) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; os.replace is durable enough there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


def _last_entry(handle: Any) -> dict[str, Any] | None:
    """The last line's entry (seq, hash, prev), reading only the file's tail; None if empty."""
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    if size == 0:
        return None
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
        return {"seq": int(entry["seq"]), "hash": str(entry["hash"]), "prev": entry.get("prev")}
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
