"""One file -> exactly one outcome: ok, ok with warnings, rejected, or needs a password.

`extract()` runs on the caller's thread and blocks until the file is parsed. PDF, DOCX, HTML
and images are parsed in a separate worker process (rag.parse_worker) limited in time, memory
and CPU, so a damaged or hostile file cannot crash or hang the app: a worker that runs past
`limits.timeout_s` (plus `ocr_timeout_s` for PDFs and images) is killed. (HTML goes there
too: html.parser has had quadratic cases on malformed markup, e.g. CVE-2025-6069.) One process
still reads one file, but it is started ahead: rag.worker_pool keeps one spare worker waiting,
hands it the next file and starts the next spare at once, so the start overlaps this file's
parse and embedding. Scanned
PDF pages and images (PNG, JPEG, TIFF) are read by OCR in that worker. TXT and MD are decoded
in-process, bounded by the file-size and character limits. Every rejection carries a reason a
person understands; "ok" always comes with text that has at least one non-space character, so
it always yields chunks.

What a file is, is decided by its contents before its name: a file that starts with `%PDF-` is
read as a PDF, a zip package with Word parts as a Word file, one that starts with
`<!DOCTYPE html` or `<html` as HTML, and a PNG, JPEG or TIFF signature as an image, whatever
its name says (a warning says so when the name says otherwise). Other files are read by their
extension; a file without one is refused. Only regular files are opened, and never in a way
that could wait (a pipe is not read).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rag.limits import ParseLimits
from rag.parsers import NO_TEXT, ParseRejected, damaged, format_mb
from rag.types import Page, ParsedDocument
from rag.worker_pool import SpareWorker

ExtractOutcome = Literal["ok", "ok_with_warnings", "rejected", "needs_password"]

_KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_KINDS)
_WORKER_KINDS = frozenset({"pdf", "docx", "html", "image"})
_OCR_KINDS = frozenset({"pdf", "image"})
_KIND_WORDS = {
    "pdf": "PDF",
    "docx": "Word document",
    "html": "web page (HTML)",
    "text": "text",
    "image": "scanned image",
}
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
_SNIFF_HEAD = 1024
_ZIP_TAIL = 256 * 1024  # the end of a zip, where its directory names the members
_ZIP_MAGIC = b"PK\x03\x04"
_HTML_STARTS = (b"<!doctype html", b"<html")
_LEADING_SPACE = b"\xef\xbb\xbf \t\r\n\f"
NO_EXTENSION = (
    "Unsupported file type (the name has no extension, and the contents are not a PDF, "
    "a Word document, a web page or an image). Rename it, for example to .txt, and add it again."
)
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
    if suffix and suffix not in _KINDS:
        return _rejected(f"Unsupported file type {suffix}")
    refusal = _not_a_readable_file(path, limits)
    if refusal:
        return _rejected(refusal)
    kind, note = identify(path)
    if kind is None:
        return _rejected(NO_EXTENSION)
    try:
        if kind in _WORKER_KINDS:
            parsed = _parse_in_worker(kind, path.resolve(), password, limits)
        else:
            parsed = _parse_in_process(path, limits)
    except ParseRejected as exc:
        return ExtractResult(exc.outcome, None, exc.reason, [])
    if note:
        parsed.warnings.insert(0, note)
    return _finish(parsed)


def _not_a_readable_file(path: Path, limits: ParseLimits) -> str:
    """Why `path` cannot be read as a document file ("" when it can be tried)."""
    try:
        if not path.exists():
            return "The file does not exist (it may have been moved or deleted)."
        if path.is_dir():
            return "This is a folder, not a file."
        if not path.is_file():
            return "This is not a regular file (a device, a pipe or the like)."
        size = path.stat().st_size
    except OSError as exc:
        return f"The file cannot be read ({exc.strerror or exc})."
    if size == 0:
        return "Empty file"
    if size > limits.max_file_bytes:
        return (
            f"The file is {format_mb(size)}; the limit is {format_mb(limits.max_file_bytes)} "
            "(max_file_mb in settings)."
        )
    return ""


def identify(path: Path) -> tuple[str | None, str]:
    """(kind, note): the parser for `path` ("pdf", "docx", "html", "text", or None when
    Enclave cannot read it), by contents first and extension second (see the module
    docstring); `note` is a warning when the contents overrule the name, else ""."""
    suffix = path.suffix.lower()
    by_name = _KINDS.get(suffix)
    if suffix and by_name is None:
        return None, ""
    by_contents = sniff_kind(path)
    if by_contents is None or by_contents == by_name:
        return by_name, ""
    what = _KIND_WORDS[by_contents]
    if not suffix:
        return by_contents, f"The file's name has no extension; its contents are a {what}."
    return by_contents, (
        f"The file's name ends in {suffix}, but it is a {what}; Enclave read it as a {what}."
    )


def sniff_kind(path: Path) -> str | None:
    """ "pdf", "docx", "html" or "image" when the file's first bytes say so, else None. Opens only a
    regular file, and without blocking (a pipe swapped in is never waited on)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None
            head = fh.read(_SNIFF_HEAD)
            if not head.startswith(_ZIP_MAGIC):
                return _kind_from_head(head)
            fh.seek(max(0, info.st_size - _ZIP_TAIL))
            return "docx" if b"word/" in fh.read(_ZIP_TAIL) else None
        except OSError:
            return None


def _kind_from_head(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    start = head.lstrip(_LEADING_SPACE)[:20].lower()
    return "html" if start.startswith(_HTML_STARTS) else None


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


_WORKERS = SpareWorker(lambda: worker_command(), _PACKAGE_ROOT)


def close_workers() -> None:
    """Stop the spare parse worker (rag.worker_pool); the next file starts workers again.
    Called at exit anyway; a spare also exits by itself when this process dies."""
    _WORKERS.close()


def spare_worker() -> subprocess.Popen[bytes] | None:
    """The spare parse worker waiting for the next file, or None (tests, diagnostics)."""
    return _WORKERS.spare


def _parse_in_worker(
    kind: str, path: Path, password: str | None, limits: ParseLimits
) -> ParsedDocument:
    request = {"kind": kind, "path": str(path), "password": password, "limits": limits.to_dict()}
    payload = json.dumps(request).encode("utf-8")
    try:
        proc = _WORKERS.take()
    except OSError as exc:
        raise ParseRejected(
            f"Enclave could not start its document reader ({exc.strerror or exc}); "
            "try again, and restart Enclave if it keeps happening."
        ) from exc
    try:
        out, err = proc.communicate(payload, timeout=wall_clock_limit(kind, limits))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ParseRejected(_too_slow(limits, kind)) from None
    except BaseException:  # KeyboardInterrupt and the like: never leave a worker behind
        proc.kill()
        proc.wait()
        raise
    result = _decode_result(out)
    if result is None:
        raise ParseRejected(_died(proc.returncode, err[-_STDERR_KEEP:], limits, kind))
    return _from_result(result, limits)


def wall_clock_limit(kind: str, limits: ParseLimits) -> float:
    """Seconds a worker may run: timeout_s, plus ocr_timeout_s for files that may need OCR
    (the worker itself stops when its time outside OCR passes timeout_s)."""
    return limits.timeout_s + (limits.ocr_timeout_s if kind in _OCR_KINDS else 0)


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
        pages = [
            Page(int(p[0]), int(p[1]), int(p[2]), bool(p[3:4] == [1])) for p in result["pages"]
        ]
        return ParsedDocument(str(result["text"]), pages, [str(w) for w in result["warnings"]])
    if status in ("rejected", "needs_password"):
        raise ParseRejected(str(result["reason"]), outcome=status)
    if status == "memory":
        raise ParseRejected(_too_big(limits))
    raise damaged(f"the reader failed: {result.get('detail', 'unknown error')}")


def _too_slow(limits: ParseLimits, kind: str = "") -> str:
    if kind in _OCR_KINDS:
        return (
            f"Reading the file took longer than {wall_clock_limit(kind, limits):g} s "
            f"({limits.timeout_s:g} s, and {limits.ocr_timeout_s:g} s for OCR) and was stopped "
            "(parse_timeout_s and parse_ocr_timeout_s in settings)."
        )
    return too_slow(limits)


def too_slow(limits: ParseLimits) -> str:
    """The reason for a file whose reading (outside OCR) took longer than timeout_s."""
    return (
        f"Reading the file took longer than {limits.timeout_s:g} s and was stopped "
        "(parse_timeout_s in settings)."
    )


def _too_big(limits: ParseLimits) -> str:
    return (
        f"Reading the file needed more than {limits.memory_mb} MB of memory and was stopped "
        "(parse_memory_mb in settings)."
    )


def _died(returncode: int | None, stderr: bytes, limits: ParseLimits, kind: str = "") -> str:
    """A reason for a worker that ended without a result (killed by a signal or crashed)."""
    sigxcpu = getattr(signal, "SIGXCPU", None)
    if returncode is not None and sigxcpu is not None and returncode == -sigxcpu:
        return _too_slow(limits, kind)
    text = stderr.decode("utf-8", "replace")
    if "MemoryError" in text or "bad_alloc" in text or "out of memory" in text.lower():
        return _too_big(limits)
    if returncode is not None and returncode < 0:
        return (
            "The file made the reader stop unexpectedly. It is probably damaged; or it needed "
            f"more than {limits.memory_mb} MB of memory (parse_memory_mb in settings)."
        )
    return f"The file could not be read (the reader stopped with code {returncode})."
