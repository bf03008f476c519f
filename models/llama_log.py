"""llama.cpp's own log, captured instead of printed.

llama.cpp reports why a model fails to load only in its log ("invalid magic characters",
"tensor ... data is not within the file bounds"); llama-cpp-python then raises a bare
"Failed to load model". `install()` routes the log into a small thread-safe buffer (nothing goes
to stderr unless asked), and `capture()` collects the warning and error lines that the calling
thread produces, so a failed load can say what llama.cpp said.

Privacy: llama.cpp's log holds file names, sizes and tensor names, never prompt or answer text;
this module keeps only warning and error lines, in memory, and writes them nowhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

# ggml_log_level (ggml.h): NONE=0, DEBUG=1, INFO=2, WARN=3, ERROR=4, CONT=5 (continues a line).
LEVEL_DEBUG, LEVEL_INFO, LEVEL_WARN, LEVEL_ERROR, LEVEL_CONT = 1, 2, 3, 4, 5
_KEEP_FROM = LEVEL_WARN

_lock = threading.Lock()
_installed = False
_echo = False
_callback: Any = None  # the ctypes callback object; must stay referenced while installed
_recent: deque[tuple[int, str]] = deque(maxlen=200)
_captures: dict[int, list[tuple[int, str]]] = {}  # thread ident -> lines of an open capture()
_last_level: dict[int, int] = {}


def _on_log(level: int, text: bytes | None, _user_data: object) -> None:
    """Runs on whichever thread llama.cpp logs from (the loading or decoding thread)."""
    try:
        ident = threading.get_ident()
        if level == LEVEL_CONT:
            level = _last_level.get(ident, LEVEL_DEBUG)
        else:
            _last_level[ident] = level
        if level < _KEEP_FROM or not text:
            return
        line = text.decode("utf-8", errors="replace")
        with _lock:
            target = _captures.get(ident)
            if target is not None and target and not target[-1][1].endswith("\n"):
                target[-1] = (target[-1][0], target[-1][1] + line)
            elif target is not None:
                target.append((level, line))
            _recent.append((level, line))
        if _echo:
            print(line, end="", file=sys.stderr, flush=True)
    except Exception:  # a logging callback must never raise into C
        pass


def install(echo_to_stderr: bool = False) -> None:
    """Route llama.cpp's log here (idempotent). Imports llama_cpp: call it only when loading."""
    global _installed, _callback, _echo
    _echo = echo_to_stderr
    with _lock:
        if _installed:
            return
        import llama_cpp

        _callback = llama_cpp.llama_log_callback(_on_log)
        llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))
        _installed = True


@contextlib.contextmanager
def capture() -> Iterator[list[tuple[int, str]]]:
    """Collect the (level, line) warnings and errors llama.cpp logs on this thread meanwhile."""
    install(echo_to_stderr=_echo)
    ident = threading.get_ident()
    lines: list[tuple[int, str]] = []
    with _lock:
        previous = _captures.get(ident)
        _captures[ident] = lines
    try:
        yield lines
    finally:
        with _lock:
            if previous is None:
                _captures.pop(ident, None)
            else:
                _captures[ident] = previous


def recent_lines() -> list[str]:
    """The last warning/error lines llama.cpp logged (for a diagnostics view)."""
    with _lock:
        return [line.rstrip("\n") for _, line in _recent]


_NOISE = ("failed to load model", "llama_model_load_from_file_impl")


def explain(lines: list[tuple[int, str]]) -> str:
    """The most telling error line(s) from a capture, without llama.cpp's function prefixes."""
    errors = [line.strip() for level, line in lines if level >= LEVEL_ERROR and line.strip()]
    if not errors:
        errors = [line.strip() for _, line in lines if line.strip()]
    useful = [e for e in errors if not any(n in e.lower() for n in _NOISE)] or errors
    cleaned: list[str] = []
    for line in useful[:3]:
        for prefix in ("llama_model_load: error loading model: ", "error loading model: "):
            if prefix in line:
                line = line.split(prefix, 1)[1]
        if ": " in line and line.split(": ", 1)[0].replace("_", "").isalnum():
            line = line.split(": ", 1)[1]  # drop a leading "function_name: "
        if line not in cleaned:
            cleaned.append(line)
    return "; ".join(cleaned)
