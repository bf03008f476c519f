"""The parse worker: a short-lived process that parses one PDF, DOCX, HTML or image file under
limits (scanned pages and images are read by OCR here, rag.parsers.scan).

Started by rag.extract as `python -m rag.parse_worker` (one process per file), ahead of the
file it will read (rag.worker_pool keeps one spare started): the worker starts Python, imports
its parsers (`PRELOAD`), and only then blocks reading its request. Protocol:
- stdin: one JSON object {"kind": "pdf"|"docx"|"html"|"image", "path": str, "password": str|null,
  "limits": ParseLimits.to_dict()}, up to end of file. The password travels here, never on the
  command line. An empty stdin (a spare whose parent discarded it or died) ends the worker
  at once, with no output.
- stdout: one JSON object, the result (see `run`). Native libraries that print are moved to
  stderr first, so nothing but the result ever reaches stdout.
The worker limits itself after it has read the request and before it opens the file: address
space (RLIMIT_AS, memory_mb) and CPU time (RLIMIT_CPU: the CPU seconds spent starting, plus
timeout_s + ocr_timeout_s + 1) on POSIX. Setting the limits here, not in
a `preexec_fn`, keeps process creation safe in the app, which has other threads running.
The worker is single-threaded; the parent kills it when timeout_s (plus ocr_timeout_s for a PDF
or an image) of wall-clock time pass, and the worker stops itself when its time outside OCR
passes timeout_s (checked after each page).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from rag.limits import ParseLimits

_MB = 1024 * 1024
_MEMORY_HEADROOM = 0.9  # stop cleanly when the address space reaches 90% of the limit
_CHECK_EVERY_PAGES = 8  # RLIMIT_AS is the hard stop; this check only makes the stop clean
# Imported while the worker waits for its request; why these (and not OCR): rag.worker_pool.
PRELOAD: tuple[str, ...] = (
    "rag.extract",
    "rag.parsers",
    "rag.parsers.scan",
    "rag.parsers.pdf",
    "rag.parsers.docx",
    "rag.parsers.html",
    "rag.parsers.image",
    "pypdfium2",
    "docx",
    "lxml.etree",
)
TOO_NESTED = (
    "The file is nested more deeply than Enclave reads safely (elements within each other "
    "thousands of levels deep), so it was not read."
)


def _address_space_mb() -> float | None:
    """This process's virtual memory size in MB (Linux), or None where unknown."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE") / _MB
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def apply_limits(limits: ParseLimits) -> None:
    """Limit this process's memory and CPU time (POSIX; a no-op elsewhere).

    Raises MemoryError when the process already uses more than the memory limit."""
    try:
        import resource
    except ImportError:  # Windows: the parent's wall-clock timeout is the only limit
        return
    current = _address_space_mb()
    if current is not None and current >= limits.memory_mb * _MEMORY_HEADROOM:
        raise MemoryError
    mem = limits.memory_mb * _MB
    for which in (resource.RLIMIT_AS, getattr(resource, "RLIMIT_DATA", None)):
        if which is None:
            continue
        try:
            resource.setrlimit(which, (mem, mem))
            break
        except (ValueError, OSError):  # macOS refuses RLIMIT_AS: try RLIMIT_DATA
            continue
    used = resource.getrusage(resource.RUSAGE_SELF)
    started = used.ru_utime + used.ru_stime  # starting Python and importing the parsers
    cpu = math.ceil(started + limits.timeout_s + limits.ocr_timeout_s) + 1
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _check_memory(limits: ParseLimits) -> None:
    current = _address_space_mb()
    if current is not None and current >= limits.memory_mb * _MEMORY_HEADROOM:
        raise MemoryError


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Parse the requested file -> a JSON-able result:
    {"status": "ok", "text", "pages": [[number, start, end, ocr (0|1)], ...], "warnings"}
    {"status": "rejected" | "needs_password", "reason"}
    {"status": "memory"}  (the file needed more than the memory limit)
    {"status": "error", "detail"}  (an unexpected failure of the parser)
    """
    from rag.extract import too_slow
    from rag.parsers import ParseRejected
    from rag.parsers.scan import PageOcr

    started = time.monotonic()
    limits = ParseLimits.from_dict(request["limits"])
    path = Path(request["path"])
    pages_done = 0

    def after_page() -> None:
        nonlocal pages_done
        pages_done += 1
        if time.monotonic() - started - ocr.seconds > limits.timeout_s:
            raise ParseRejected(too_slow(limits))
        if pages_done % _CHECK_EVERY_PAGES == 0:
            _check_memory(limits)

    ocr = PageOcr(limits, started=started)
    try:
        apply_limits(limits)
        if request["kind"] == "pdf":
            from rag.parsers.pdf import parse_pdf

            parsed = parse_pdf(
                path, limits, password=request.get("password"), after_page=after_page, ocr=ocr
            )
        elif request["kind"] == "image":
            from rag.parsers.image import parse_image

            parsed = parse_image(path, limits, after_page=after_page, ocr=ocr)
        elif request["kind"] == "docx":
            from rag.parsers.docx import parse_docx

            parsed = parse_docx(path, limits)
            _check_memory(limits)
        elif request["kind"] == "html":
            from rag.parsers.html import parse_html

            parsed = parse_html(path, limits)
        else:
            return {"status": "error", "detail": f"unknown kind {request['kind']!r}"}
    except ParseRejected as exc:
        return {"status": exc.outcome, "reason": exc.reason}
    except MemoryError:
        return {"status": "memory"}
    except RecursionError:  # a limit, not damage: say so in words
        return {"status": "rejected", "reason": TOO_NESTED}
    except Exception as exc:  # the parser failed in a way nobody foresaw: report, don't crash
        # Only the type: a library's message may quote the file's content.
        return {"status": "error", "detail": type(exc).__name__}
    return {
        "status": "ok",
        "text": parsed.text,
        "pages": [[p.number, p.start, p.end, int(p.ocr)] for p in parsed.pages],
        "warnings": parsed.warnings,
    }


def preload() -> None:
    """Import the parsers before the request comes (`PRELOAD`); one that fails to import fails
    again, and is reported, when a file needs it."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # reported by the parse that needs it
            continue


def main() -> int:
    result_fd = os.dup(1)
    os.dup2(2, 1)  # anything a native library prints goes to stderr, not into the result
    sys.stdout = sys.stderr
    preload()
    raw = sys.stdin.buffer.read()  # a spare waits here until it is given a file
    if not raw.strip():  # discarded, or its parent is gone: nothing to read, nobody to answer
        os.close(result_fd)
        return 0
    try:
        request = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        result: dict[str, Any] = {"status": "error", "detail": f"bad request: {exc}"}
    else:
        result = run(request)
    try:
        payload = json.dumps(result).encode("ascii")
    except MemoryError:
        payload = b'{"status": "memory"}'
    with os.fdopen(result_fd, "wb") as out:
        out.write(payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
