"""Smoke-test the built bundle (`make bundle-smoke`): its --self-test passes, offline, portably.

    .venv/bin/python packaging/smoke_bundle.py [--bundle packaging/dist/enclave] [--no-strace]

1. Runs `enclave --self-test --json` from the bundle in a bare environment (PATH, a temporary
   HOME, nothing of the build's virtual environment), so the bundle proves it needs nothing
   outside its folder and that its runtime hook alone sets every telemetry switch.
2. Under `strace -f -e trace=connect` (when strace is installed; the parse worker processes
   included): any connect() to a non-loopback address fails the smoke test.
3. Nothing may appear under the temporary HOME that betrays telemetry (~/.cache/Microsoft is
   where onnxruntime writes its device id); everything written there is listed.
4. On x86-64 Linux with objdump: the bundled ggml CPU library must hold no AVX-512 (zmm)
   instructions, i.e. it was built portable (--allow-native skips this).
Prints a summary, writes packaging/dist/smoke-report.json, exits 0 when all is well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository: app.privacy.strace reads the trace

from app.privacy.strace import STRACE_PREFIX, connect_count, non_loopback_connects  # noqa: E402

TELEMETRY_TRACES = (".cache/Microsoft", ".cache/huggingface/token")


def executable(bundle: Path) -> Path:
    return bundle / ("enclave.exe" if os.name == "nt" else "enclave")


def bare_env(home: Path) -> dict[str, str]:
    """PATH, a temporary HOME and the offscreen Qt platform: nothing from the build env."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(home / "run"),
    }
    (home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    return env


def avx512_instructions(bundle: Path) -> int | None:
    """zmm-register instructions in the bundled ggml CPU library (None: cannot check here)."""
    if platform.machine() not in ("x86_64", "AMD64") or shutil.which("objdump") is None:
        return None
    libs = sorted((bundle / "_internal" / "llama_cpp" / "lib").glob("libggml-cpu*"))
    if not libs:
        return None
    dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(libs[0])],
                          capture_output=True, text=True, check=False).stdout  # fmt: skip
    return dump.count("%zmm")


def run_smoke(bundle: Path, *, use_strace: bool = True, timeout: float = 600) -> dict[str, Any]:
    """Run the checks; returns a result dict with "ok" and "problems" (a list of sentences)."""
    exe = executable(bundle)
    if not exe.is_file():
        raise SystemExit(f"no bundle at {exe}: run `make bundle` first")
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="enclave-smoke-") as tmp:
        home, trace = Path(tmp) / "home", Path(tmp) / "trace.txt"
        home.mkdir()
        strace = use_strace and shutil.which("strace") is not None
        prefix = [*STRACE_PREFIX, "--seccomp-bpf", "-o", str(trace)] if strace else []
        started = time.perf_counter()
        proc = subprocess.run([*prefix, str(exe), "--self-test", "--json"], env=bare_env(home),
                              cwd=tmp, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
        seconds = time.perf_counter() - started
        lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
        report = next((x for x in lines if x.get("event") == "report"), None)
        if proc.returncode != 0:
            problems.append(f"--self-test exited {proc.returncode}: {proc.stderr[-2000:]}")
        if report is None or not report.get("ok"):
            problems.append("the self-test report is missing or failed")
        elif not report.get("frozen"):
            problems.append("the self-test did not run frozen")
        bad = non_loopback_connects(trace.read_text()) if strace else []
        problems += [f"non-loopback connection: {line}" for line in bad]
        written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
        problems += [f"telemetry trace written: ~/{w}" for w in written
                     if w.startswith(TELEMETRY_TRACES)]  # fmt: skip
        gui_trace = Path(str(trace) + ".gui")
        gui_prefix = [*STRACE_PREFIX, "-o", str(gui_trace)] if strace else []
        window = _window_start(exe, home, gui_prefix, timeout)
        if window.get("ready") is None:
            problems.append(f"the window did not load its models: {window.get('problem', '?')}")
        if strace:
            gui_bad = non_loopback_connects(gui_trace.read_text())
            problems += [f"non-loopback connection (window): {line}" for line in gui_bad]
        connects = connect_count(trace.read_text()) if strace else None
        connect_lines = (
            [x for x in trace.read_text().splitlines() if "connect(" in x][:20] if strace else []
        )
    zmm = avx512_instructions(bundle)
    return {
        "ok": not problems,
        "problems": problems,
        "seconds": round(seconds, 1),
        "strace": strace,
        "connect_calls": connects,
        "non_loopback_connects": len(bad),
        "connect_lines": connect_lines,
        "files_written_under_home": written,
        "avx512_instructions": zmm,
        "window": window,
        "report": report,
    }


def _window_start(exe: Path, home: Path, prefix: list[str], timeout: float) -> dict[str, Any]:
    """The frozen window, offscreen, until its models are loaded (`--measure-startup`): it
    starts its worker process (search model and indexes) through the frozen entry point."""
    started = time.perf_counter()
    proc = subprocess.run([*prefix, str(exe), "--measure-startup"], env=bare_env(home),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    events = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            events[event.get("event")] = {**event, "s": round(time.perf_counter() - started, 1)}
    result: dict[str, Any] = {"ready": events.get("ready"), "exit": proc.returncode}
    if "failed" in events:
        result["problem"] = events["failed"].get("message", "")
    elif proc.returncode != 0:
        result["problem"] = f"exit {proc.returncode}: {proc.stderr[-1500:]}"
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--bundle", type=Path, default=ROOT / "packaging" / "dist" / "enclave")
    p.add_argument("--no-strace", action="store_true")
    p.add_argument("--allow-native", action="store_true", help="skip the AVX-512 check")
    args = p.parse_args(argv)
    result = run_smoke(args.bundle, use_strace=not args.no_strace)
    if result["avx512_instructions"] and not args.allow_native:
        result["problems"].append(
            f"the bundled llama.cpp holds {result['avx512_instructions']} AVX-512 instructions: "
            "it was built -march=native on this machine and may crash on older CPUs"
        )
        result["ok"] = False
    out = args.bundle.parent / "smoke-report.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    report = result["report"] or {}
    for check in report.get("checks", []):
        print(f"{'ok' if check['ok'] else 'FAILED':>6}  {check['name']}")
    print(f"Self-test in {result['seconds']} s; strace: {result['strace']} "
          f"({result['connect_calls']} connect calls, {result['non_loopback_connects']} "
          f"non-loopback); AVX-512 instructions: {result['avx512_instructions']}; "
          f"files under HOME: {len(result['files_written_under_home'])}.")  # fmt: skip
    ready = (result.get("window") or {}).get("ready") or {}
    print(f"Window with its worker process: models loaded; RSS {ready.get('rss_mb')} MB "
          f"(with the worker {ready.get('rss_total_mb')} MB).")  # fmt: skip
    for problem in result["problems"]:
        print(f"PROBLEM: {problem}")
    print("Bundle smoke test passed." if result["ok"] else "Bundle smoke test FAILED.")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
