"""The one-folder app (`make bundle`): size, build time, cold start to a ready window and to the
first token, and peak memory, against the same app run from source in the virtual environment.

    .venv/bin/python bench/bench_bundle.py [--runs 3] [--build]

--build rebuilds the bundle first (packaging/build_bundle.py) and times the whole build; without
it the build time is the one the last build recorded in BUILD-INFO.json. Each start is a new
process (the OS file cache is warm after the first; "first start" is the very first run):
- ready window: `enclave --measure-startup` (offscreen Qt): the window is shown and interactive,
  then "ready" once the model and the search model are loaded.
- first token: `enclave --self-test --json`: the model is loaded, the sample indexed, and the
  first answer token streamed; times are taken as each progress line arrives.
Peak RSS: the largest process of the run (RUSAGE_CHILDREN of a small runner process).
Writes bench/results/bundle.json and bundle.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "packaging" / "dist" / "enclave"
EXE = BUNDLE / ("enclave.exe" if os.name == "nt" else "enclave")
SOURCE = [sys.executable, str(REPO / "packaging" / "enclave_entry.py")]
# Runs the command, relays its stdout, then prints the peak RSS (KiB) of its largest process.
RUNNER = (
    "import resource, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
    "for line in p.stdout:\n"
    "    sys.stdout.buffer.write(line); sys.stdout.flush()\n"
    "p.wait()\n"
    "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
)


def timed_run(cmd: list[str], env: dict[str, str]) -> tuple[dict[str, float], float, int]:
    """({event: seconds from start until its JSON line arrived}, peak RSS MiB, exit code)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, *cmd], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    events: dict[str, float] = {}
    peak, code = 0.0, -1
    for line in proc.stdout:
        now = time.perf_counter() - started
        if line.startswith("PEAK_KIB"):
            _, kib, rc = line.split()
            peak, code = int(kib) / 1024, int(rc)
        elif line.startswith("{"):
            events.setdefault(json.loads(line)["event"], round(now, 3))
    proc.wait()
    return events, peak, code


def measure(cmd: list[str], args: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    """`runs` new processes sharing one fresh ENCLAVE_HOME (the first run sets it up)."""
    import tempfile

    samples = []
    with tempfile.TemporaryDirectory() as home:
        env = dict(env, ENCLAVE_HOME=home)
        for _ in range(runs):
            samples.append(timed_run([*cmd, *args], env))
    if any(code != 0 for _, _, code in samples):
        raise SystemExit(f"{' '.join(cmd + args)} failed")
    keys = sorted(set.intersection(*(set(e) for e, _, _ in samples)))
    return {
        "first_run": samples[0][0],
        "median": {k: round(statistics.median(e[k] for e, _, _ in samples), 2) for k in keys},
        "peak_rss_mib": round(max(p for _, p, _ in samples)),
        "runs": runs,
    }


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--build", action="store_true", help="rebuild the bundle and time it")
    p.add_argument("--render", action="store_true", help="only rewrite bundle.md from bundle.json")
    args = p.parse_args(argv)
    out = REPO / "bench" / "results"
    if args.render:
        (out / "bundle.md").write_text(render(json.loads((out / "bundle.json").read_text())))
        return 0
    build_s = None
    if args.build:
        started = time.perf_counter()
        subprocess.run([sys.executable, str(REPO / "packaging" / "build_bundle.py")], check=True)
        build_s = round(time.perf_counter() - started, 1)
    if not EXE.is_file():
        print(f"no bundle at {EXE}: run `make bundle` first")
        return 1
    info = json.loads((BUNDLE / "BUILD-INFO.json").read_text())
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
           "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen"}  # fmt: skip
    src_env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    results = {
        "bundle_window": measure([str(EXE)], ["--measure-startup"], env, args.runs),
        "source_window": measure(SOURCE, ["--measure-startup"], src_env, args.runs),
        "bundle_selftest": measure([str(EXE)], ["--self-test", "--json"], env, args.runs),
        "source_selftest": measure(SOURCE, ["--self-test", "--json"], src_env, args.runs),
    }
    figures = {
        "size_mib": round(folder_size(BUNDLE) / 2**20),
        "pyinstaller_build_s": info.get("pyinstaller_seconds"),
        "pyinstaller_cpu_s": info.get("pyinstaller_cpu_seconds"),
        "full_build_s": build_s,
        "llama_cpp": info.get("llama_cpp"),
        **results,
        "load_average_1min_after": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(figures, indent=2))
    out.mkdir(parents=True, exist_ok=True)
    (out / "bundle.json").write_text(json.dumps(figures, indent=2) + "\n")
    (out / "bundle.md").write_text(render(figures))
    return 0


def _row(name: str, b: dict[str, Any], s: dict[str, Any], key: str) -> str:
    bv, sv = b["median"].get(key), s["median"].get(key)
    if bv is None or sv is None:
        return f"| {name} | n/a | n/a | |\n"
    first = b["first_run"].get(key)
    return f"| {name} | {bv:.2f} s (first start {first:.2f} s) | {sv:.2f} s | {bv / sv:.2f} |\n"


def render(f: dict[str, Any]) -> str:
    bw, sw, bs, ss = (f["bundle_window"], f["source_window"], f["bundle_selftest"],
                      f["source_selftest"])  # fmt: skip
    build = f"{f['pyinstaller_build_s']:.0f} s (PyInstaller)" if f["pyinstaller_build_s"] else "?"
    if f.get("pyinstaller_cpu_s"):
        build += f" using {f['pyinstaller_cpu_s']:.0f} CPU-seconds"
    if f["full_build_s"]:
        build += f", {f['full_build_s']:.0f} s for the whole `make bundle`"
    llama = f.get("llama_cpp") or {}
    return (
        "## The one-folder app (PyInstaller bundle)\n\n"
        f"Bundle size: {f['size_mib']} MiB (`packaging/dist/enclave/`, models included). "
        f"Build time: {build}. llama.cpp: {llama.get('mode', '?')} build "
        f"(`{llama.get('cmake_args', '?')}`).\n\n"
        f"| measure (median of {bw['runs']} new processes) | bundle | from source (.venv) "
        "| ratio |\n|---|---|---|---|\n"
        + _row("start to window shown and interactive", bw, sw, "interactive")
        + _row("start to window ready (model + search model loaded)", bw, sw, "ready")
        + _row("start to model ready (self-test)", bs, ss, "model_ready")
        + _row(
            "start to first answer token (self-test: sample indexed, asked)", bs, ss, "first_token"
        )
        + f"\nPeak RSS of the largest process: window {bw['peak_rss_mib']} MiB (source "
        f"{sw['peak_rss_mib']} MiB); self-test {bs['peak_rss_mib']} MiB (source "
        f"{ss['peak_rss_mib']} MiB).\n\n"
        "The self-test's first token includes loading both models, parsing the sample PDF in a "
        "worker process, embedding and indexing it, and retrieval; the window's `ready` loads "
        "the chat model and the search model. The bundle runs in a bare environment (PATH, HOME "
        "only); the source runs use the virtual environment.\n\n"
        + (
            f"Measured on a shared machine (load average {f['load_average_1min_after']} on 2 "
            "cores at the end): medians move by several seconds between runs; compare the "
            "ratios, not the absolute times.\n\n"
            if f.get("load_average_1min_after", 0) > 2
            else ""
        )
        + "Re-run: `.venv/bin/python bench/bench_bundle.py` (after `make bundle`)\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
