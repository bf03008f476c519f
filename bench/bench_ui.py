"""The desktop window stays responsive: event-loop lag while models load, documents are indexed
and a long answer is written; Stop latency; cold start to an interactive window, and RSS.

Event-loop lag: a 10 ms QTimer on the GUI thread records how late each tick fires (worst, p99,
median). The anchor is the same timer on an idle window. Cold start: `python -m ui
--measure-startup` in a fresh process, from Popen to the "interactive" line (window shown, event
loop running) and to "ready" (model and search model loaded); anchor: a bare PySide6 script that
shows an empty QMainWindow the same way.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_ui.py [--quick]

Writes bench/results/ui.json and bench/results/ui.md. Real services throughout (SmolLM2 via
llama.cpp, the real embedder, chroma) in a temporary ENCLAVE_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
DOCS = EVAL / "docs"
CONTRACTS = EVAL / "cuad" / "contracts"
CONTRACT = CONTRACTS / "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.txt"
LONG_QUESTION = (
    "Describe in detail every obligation of the consultant and of the company under these "
    "agreements, with their terms, payments, confidentiality and termination rules."
)
TICK_MS = 10
BARE_QT = """
import json, sys, time
t0 = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1320, 820); w.show()
def done():
    print(json.dumps({"event": "interactive"}), flush=True); app.quit()
QTimer.singleShot(0, lambda: QTimer.singleShot(0, done))
app.exec()
"""


# -- measuring --------------------------------------------------------------------------------
class LagMeter:
    """How late a 10 ms timer on the GUI thread fires while something else happens."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.lags: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        self.lags.append(max(0.0, now - self._last - TICK_MS))
        self._last = now

    def __enter__(self) -> LagMeter:
        self.lags = []
        self.clock.start()
        self._last = 0.0
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.stop()

    def summary(self) -> dict[str, float]:
        lags = sorted(self.lags) or [0.0]
        return {
            "ticks": len(lags),
            "worst_ms": round(lags[-1], 1),
            "p99_ms": round(lags[min(len(lags) - 1, int(len(lags) * 0.99))], 1),
            "median_ms": round(statistics.median(lags), 1),
        }


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        time.sleep(0.001)


def run_loop_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() > end, seconds + 5)


# -- in-process phases ------------------------------------------------------------------------
def in_process(quick: bool) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from app.desktop.facade import open_desktop
    from ui import theme
    from ui.main_window import MainWindow

    theme.before_application()
    app = QApplication.instance() or QApplication(["bench"])
    results: dict[str, Any] = {}
    enclave = open_desktop()
    window = MainWindow(enclave, opener=lambda _u: True)
    window.show()
    meter = LagMeter()

    with meter:
        run_loop_for(3.0)
    results["idle"] = meter.summary()

    started = time.perf_counter()
    with meter:
        window.start()
        wait_until(lambda: window.warm is not None or window.warm_task is None, 600)
        wait_until(lambda: not window.pool.busy(), 600)
    if window.warm is None:
        raise RuntimeError("the model did not load")
    results["model_load"] = {**meter.summary(), "seconds": round(time.perf_counter() - started, 1)}

    sources = [DOCS / "pdf" / "legal", DOCS / "docx"] if quick else [DOCS]
    outcome: dict[str, Any] = {}
    window.documents.ingest_finished.connect(lambda s: outcome.setdefault("summary", s))
    started = time.perf_counter()
    with meter:
        window.add_documents([*sources, CONTRACT])
        wait_until(lambda: "summary" in outcome and window.documents.ingest_task is None, 3600)
    summary = outcome["summary"]
    results["ingestion"] = {
        **meter.summary(),
        "seconds": round(time.perf_counter() - started, 1),
        "folder": "docs/pdf/legal + docs/docx" if quick else "docs/ (all 37 files)",
        "files": summary.total,
        "pages": summary.pages,
        "passages": summary.chunks,
        "pages_per_s": round(summary.pages / summary.seconds, 1) if summary.seconds else 0,
        "outcomes": summary.counts,
    }

    answers: list[Any] = []
    window.chat.answer_finished.connect(answers.append)
    started = time.perf_counter()
    with meter:
        window.chat.ask(LONG_QUESTION)
        wait_until(lambda: bool(answers) and window.chat.task is None, 1200)
    answer = answers[-1]
    tokens = answer.stats.completion_tokens if answer.stats else 0
    results["generation"] = {
        **meter.summary(),
        "seconds": round(time.perf_counter() - started, 1),
        "tokens": tokens,
        "tokens_per_s": round(tokens / answer.stats.seconds_total, 1) if answer.stats else 0,
        "sources": len(answer.sources),
    }

    stops = []
    for _ in range(3 if quick else 5):
        window.new_chat()
        tokens_seen: list[str] = []
        window.chat.token_received.connect(tokens_seen.append)
        window.chat.ask(LONG_QUESTION)
        wait_until(lambda tokens_seen=tokens_seen: len(tokens_seen) >= 3, 600)
        count = len(answers)
        pressed = time.perf_counter()
        window.chat.stop()
        wait_until(lambda count=count: len(answers) > count, 600)
        stops.append((time.perf_counter() - pressed) * 1000)
        if not answers[-1].cancelled:
            stops[-1] = float("nan")
        wait_until(lambda: window.chat.task is None, 600)
        window.chat.token_received.disconnect(tokens_seen.append)
    results["stop"] = {
        "runs": len(stops),
        "worst_ms": round(max(stops), 1),
        "median_ms": round(statistics.median(stops), 1),
    }
    window.shutdown()
    window.close()
    enclave.close()
    app.processEvents()
    return results


# -- cold start (subprocesses) ----------------------------------------------------------------
def startup_run(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    out: dict[str, float] = {}
    for line in proc.stdout:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        out[f"{event['event']}_s"] = round(time.perf_counter() - started, 2)
        for key in ("rss_mb", "rss_total_mb"):
            if key in event:
                out[key] = event[key]
    proc.wait(timeout=600)
    return out


def cold_start() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, ENCLAVE_HOME=home, QT_QPA_PLATFORM="offscreen")
        app = [sys.executable, "-m", "ui", "--measure-startup"]
        first = startup_run(app, env)  # first run: copies and checks the built-in model
        again = [startup_run(app, env) for _ in range(3)]
        bare = [startup_run([sys.executable, "-c", BARE_QT], env) for _ in range(3)]
    return {
        "first_run": first,
        "runs": again,
        "interactive_s": sorted(r["interactive_s"] for r in again)[1],
        "ready_s": sorted(r.get("ready_s", float("nan")) for r in again)[1],
        "rss_mb_ready": max(r.get("rss_mb", 0.0) for r in again),
        "rss_total_mb_ready": max(r.get("rss_total_mb", 0.0) for r in again),
        "bare_qt_interactive_s": sorted(r["interactive_s"] for r in bare)[1],
    }


# -- report -----------------------------------------------------------------------------------
def markdown(r: dict[str, Any]) -> str:
    def row(name: str, d: dict[str, Any], note: str) -> str:
        return f"| {name} | {d['worst_ms']} | {d['p99_ms']} | {d['median_ms']} | {note} |"

    ing, gen, cs = r["ingestion"], r["generation"], r["cold_start"]
    lines = [
        "## Desktop window responsiveness (`bench/bench_ui.py`)",
        "",
        "Event-loop lag on the GUI thread: how late a 10 ms timer fires (ms) while the work runs "
        "on worker threads. Target: worst < 100 ms. Real services (SmolLM2 Q4_1, all-MiniLM-L6-v2, "
        f"chroma) in a temporary home; offscreen Qt. Load average before/after: "
        f"{r['load_before']} / {r['load_after']} (a shared 2-core machine: figures move with it).",
        "",
        "| while | worst | p99 | median | what ran |",
        "|---|---:|---:|---:|---|",
        row("idle window (anchor)", r["idle"], "nothing"),
        row(
            "model load",
            r["model_load"],
            f"built-in model check + llama.cpp load + search model (child process), "
            f"{r['model_load']['seconds']} s",
        ),
        row(
            "ingestion",
            ing,
            f"{ing['folder']}: {ing['files']} files, {ing['pages']} pages, "
            f"{ing['passages']} passages in {ing['seconds']} s ({ing['pages_per_s']} pages/s)",
        ),
        row(
            "long generation",
            gen,
            f"{gen['tokens']} tokens at {gen['tokens_per_s']} tok/s, {gen['sources']} sources",
        ),
        "",
        "The search model (torch) and every workspace index (chromadb) run in one worker "
        "process (`app.desktop.worker`): in the window's process torch's import froze the event "
        "loop for 0.5-0.8 s and chromadb's upsert for up to 739 ms during this ingestion (both "
        "hold the GIL). The window's process only sends requests and reads answers.",
        "",
        f"Stop (Esc) to the stopped answer on screen: worst {r['stop']['worst_ms']} ms, median "
        f"{r['stop']['median_ms']} ms over {r['stop']['runs']} answers (target: 200 ms).",
        "",
        "| cold start | Enclave (`python -m ui`) | anchor: bare PySide6 window | ratio |",
        "|---|---:|---:|---:|",
        f"| process start to interactive window (median of 3) | {cs['interactive_s']} s "
        f"| {cs['bare_qt_interactive_s']} s "
        f"| {cs['interactive_s'] / cs['bare_qt_interactive_s']:.2f} |",
        f"| process start to models loaded (median of 3) | {cs['ready_s']} s | - | - |",
        "",
        f"First run on a fresh home (copies and sha256-checks the built-in model): interactive "
        f"{cs['first_run'].get('interactive_s')} s, models loaded {cs['first_run'].get('ready_s')} "
        f"s. RSS once the models are loaded: window process {cs['rss_mb_ready']:.0f} MB; with its "
        f"worker process (search model and indexes) {cs.get('rss_total_mb_ready', 0):.0f} MB. "
        "Target: interactive < 3 s; the models keep loading in the background with a progress "
        "bar in the status bar.",
        "",
        "Re-run: `QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_ui.py`",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="index a few folders, not all docs")
    parser.add_argument("--report-only", action="store_true", help="rewrite ui.md from ui.json")
    args = parser.parse_args()
    out = REPO / "bench" / "results"
    if args.report_only:
        results = json.loads((out / "ui.json").read_text(encoding="utf-8"))
        (out / "ui.md").write_text(markdown(results), encoding="utf-8")
        return 0
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO))
    from app.bootstrap import secure_process

    secure_process()
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as home:
        os.environ["ENCLAVE_HOME"] = home
        results = in_process(args.quick)
    results["cold_start"] = cold_start()
    results["load_before"] = load_before
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    results["quick"] = args.quick
    print(json.dumps(results, indent=2))
    out.mkdir(parents=True, exist_ok=True)
    (out / "ui.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out / "ui.md").write_text(markdown(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
