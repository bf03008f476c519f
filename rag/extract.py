"""One file -> exactly one outcome: ok, ok with warnings, rejected, or needs a password.

`extract()` runs on the caller's thread and blocks until the file is parsed. PDF, DOCX and HTML
are parsed in a separate worker process (rag.parse_worker) limited in time, memory and CPU, so
a damaged or hostile file cannot crash or hang the app: a worker that runs past
`limits.timeout_s` is killed. (HTML goes there too: html.parser has had quadratic cases on
malformed markup, e.g. CVE-2025-6069.) TXT and MD are decoded in-process, bounded by the
file-size and character limits. Every rejection carries a reason a person understands; "ok"
always comes with text that has at least one non-space character, so it always yields chunks.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rag.limits import ParseLimits
from rag.parsers import NO_TEXT, ParseRejected, damaged, format_mb
from rag.types import Page, ParsedDocument

ExtractOutcome = Literal["ok", "ok_with_warnings", "rejected", "needs_password"]

_KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_KINDS)
_WORKER_KINDS = frozenset({"pdf", "docx", "html"})
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the folder that holds `rag`
_STDERR_KEEP = 4000
DEFAULT_LIMITS = ParseLimits()
FROZEN_WORKER_FLAG = "--enclave-parse-worker"


@dataclass
class ExtractResult:
    """The outcome for one file. `parsed` is set exactly when outcome is ok/ok_with_warnings;
    `reason` is empty then, and a sentence for a person otherwise."""

    outcome: ExtractOutcome
    parsed: ParsedDocument | None
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


def _rejected(reason: str) -> ExtractResult:
    return ExtractResult("rejected", None, reason, [])


def extract(
    path: Path, *, password: str | None = None, limits: ParseLimits = DEFAULT_LIMITS
) -> ExtractResult:
    """Extract the text of `path` (see the module docstring). `password` opens a PDF that needs
    one; other files ignore it. Never raises for a bad file."""
    path = Path(path)
    suffix = path.suffix.lower()
    kind = _KINDS.get(suffix)
    if kind is None:
        return _rejected(f"Unsupported file type {suffix or '(the name has no extension)'}")
    try:
        if not path.exists():
            return _rejected("The file does not exist (it may have been moved or deleted).")
        if path.is_dir():
            return _rejected("This is a folder, not a file.")
        if not path.is_file():
            return _rejected("This is not a regular file (a device, a pipe or the like).")
        size = path.stat().st_size
    except OSError as exc:
        return _rejected(f"The file cannot be read ({exc.strerror or exc}).")
    if size == 0:
        return _rejected("Empty file")
    if size > limits.max_file_bytes:
        return _rejected(
            f"The file is {format_mb(size)}; the limit is {format_mb(limits.max_file_bytes)} "
            "(max_file_mb in settings)."
        )
    try:
        if kind in _WORKER_KINDS:
            parsed = _parse_in_worker(kind, path.resolve(), password, limits)
        else:
            parsed = _parse_in_process(path, limits)
    except ParseRejected as exc:
        return ExtractResult(exc.outcome, None, exc.reason, [])
    return _finish(parsed)


def _parse_in_process(path: Path, limits: ParseLimits) -> ParsedDocument:
    from rag.parsers.text import parse_text

    try:
        return parse_text(path, limits)
    except ParseRejected:
        raise
    except MemoryError as exc:
        raise ParseRejected("The file needs more memory to read than is available.") from exc
    except Exception as exc:  # a bug or an unforeseen input: one file must not stop a batch
        raise ParseRejected(f"The file cannot be read (unexpected {type(exc).__name__}).") from exc


def _finish(parsed: ParsedDocument) -> ExtractResult:
    n = len(parsed.text)
    if not parsed.pages or any(not (0 <= p.start <= p.end <= n) for p in parsed.pages):
        return _rejected("The file cannot be read (its pages could not be laid out).")
    if not any(parsed.page_text(page).strip() for page in parsed.pages):
        return _rejected(NO_TEXT)  # never "ok" without a single character to chunk
    warnings = list(parsed.warnings)
    return ExtractResult("ok_with_warnings" if warnings else "ok", parsed, "", warnings)


# -- the worker process ------------------------------------------------------------------
def worker_command() -> list[str]:
    """The command that starts a parse worker. In a frozen (PyInstaller) app, the executable
    itself must run rag.parse_worker.main() when given FROZEN_WORKER_FLAG."""
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_WORKER_FLAG]
    return [sys.executable, "-m", "rag.parse_worker"]


def _parse_in_worker(
    kind: str, path: Path, password: str | None, limits: ParseLimits
) -> ParsedDocument:
    request = {"kind": kind, "path": str(path), "password": password, "limits": limits.to_dict()}
    payload = json.dumps(request).encode("utf-8")
    try:
        proc = subprocess.Popen(
            worker_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=_PACKAGE_ROOT,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except OSError as exc:
        raise ParseRejected(
            f"Enclave could not start its document reader ({exc.strerror or exc}); "
            "try again, and restart Enclave if it keeps happening."
        ) from exc
    try:
        out, err = proc.communicate(payload, timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ParseRejected(_too_slow(limits)) from None
    except BaseException:  # KeyboardInterrupt and the like: never leave a worker behind
        proc.kill()
        proc.wait()
        raise
    result = _decode_result(out)
    if result is None:
        raise ParseRejected(_died(proc.returncode, err[-_STDERR_KEEP:], limits))
    return _from_result(result, limits)


def _decode_result(out: bytes) -> dict[str, Any] | None:
    if not out:
        return None
    try:
        result = json.loads(out)
    except ValueError:
        return None
    return result if isinstance(result, dict) and "status" in result else None


def _from_result(result: dict[str, Any], limits: ParseLimits) -> ParsedDocument:
    status = result["status"]
    if status == "ok":
        pages = [Page(int(n), int(s), int(e)) for n, s, e in result["pages"]]
        return ParsedDocument(str(result["text"]), pages, [str(w) for w in result["warnings"]])
    if status in ("rejected", "needs_password"):
        raise ParseRejected(str(result["reason"]), outcome=status)
    if status == "memory":
        raise ParseRejected(_too_big(limits))
    raise damaged(f"the reader failed: {result.get('detail', 'unknown error')}")


def _too_slow(limits: ParseLimits) -> str:
    return (
        f"Reading the file took longer than {limits.timeout_s:g} s and was stopped "
        "(parse_timeout_s in settings)."
    )


def _too_big(limits: ParseLimits) -> str:
    return (
        f"Reading the file needed more than {limits.memory_mb} MB of memory and was stopped "
        "(parse_memory_mb in settings)."
    )


def _died(returncode: int | None, stderr: bytes, limits: ParseLimits) -> str:
    """A reason for a worker that ended without a result (killed by a signal or crashed)."""
    sigxcpu = getattr(signal, "SIGXCPU", None)
    if returncode is not None and sigxcpu is not None and returncode == -sigxcpu:
        return _too_slow(limits)
    text = stderr.decode("utf-8", "replace")
    if "MemoryError" in text or "bad_alloc" in text or "out of memory" in text.lower():
        return _too_big(limits)
    if returncode is not None and returncode < 0:
        return (
            "The file made the reader stop unexpectedly. It is probably damaged; or it needed "
            f"more than {limits.memory_mb} MB of memory (parse_memory_mb in settings)."
        )
    return f"The file could not be read (the reader stopped with code {returncode})."
