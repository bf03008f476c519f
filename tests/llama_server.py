"""A real OpenAI-compatible server for the tests: `python -m llama_cpp.server` (the
llama-cpp-python[server] extra) serving a small GGUF, started and stopped around a test module."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def llama_server(
    model: Path,
    host: str,
    port: int,
    ready: Callable[[], bool],
    *,
    prefix: Sequence[str] = (),
    extra: Sequence[str] = (),
    timeout_s: float = 120,
) -> Iterator[subprocess.Popen[bytes]]:
    """Serve `model` at host:port (run under `prefix`, e.g. `ip netns exec NS`) until the block
    ends; `ready()` is polled until it is true. The test fails with the server's output if it
    exits early or is not ready in `timeout_s`."""
    pytest.importorskip("uvicorn", reason="llama-cpp-python[server] extra is not installed")
    pytest.importorskip("sse_starlette", reason="llama-cpp-python[server] extra is not installed")
    command = [
        *prefix, sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--model_alias", "smollm2", "--host", host, "--port", str(port), "--n_ctx", "2048",
        "--n_threads", "1", "--verbose", "False", *extra,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while not _ready(ready):
            if process.poll() is not None:
                out = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"llama_cpp.server exited early:\n{out[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not become ready in {timeout_s:.0f} s")
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _ready(probe: Callable[[], bool]) -> bool:
    try:
        return probe()
    except OSError:
        return False
