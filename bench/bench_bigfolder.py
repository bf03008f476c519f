"""A big folder, end to end: `enclave ingest DIR --workspace W --create` on a generated folder.

The folder (tests/integration/folder_maker.py, deterministic): N files in subfolders of 100:
TXT 40%, text PDF 25%, DOCX 20%, HTML 15% of the ordinary ones, ~3% exact duplicates, ~3% broken
(truncated PDF, random-bytes DOCX, empty TXT), 1 image-only ("scanned") PDF per 500 files.

The real CLI runs in a subprocess, as a person runs it. Measured: wall time, peak RSS of the
ingest process and of its process tree (the parse workers included), sampled every 0.2 s with
psutil, files/s and pages/s, the outcome counts. Then the same command again (the restart of a
finished run: every file must be "unchanged", nothing embedded again) and its time.
Anchor (the raw library on the same input): the embedder's raw `embed()` on exactly the chunks
the manifest holds at the end, in one process; ratio = raw embed seconds / ingest seconds, the
share of the run that is embedding (the rest: hashing, parse worker processes, chunking,
chroma and SQLite writes).

    .venv/bin/python bench/bench_bigfolder.py [--files 10000] [--keep DIR]

Writes bench/results/bigfolder.json. The load average (1, 5, 15 min) is recorded at the start and
the end: the cores may be shared, and the figures move with it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"
COMMAND = ".venv/bin/python bench/bench_bigfolder.py"


class PeakRss:
    """Samples the RSS of a process and of its whole tree until stopped."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = self.peak_tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                own = self.proc.memory_info().rss
                tree = own
                for child in self.proc.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        tree += child.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, own)
            self.peak_tree = max(self.peak_tree, tree)
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_ingest(home: Path, folder: Path) -> dict[str, Any]:
    env = dict(os.environ, ENCLAVE_HOME=str(home), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "app", "ingest", str(folder), "-w", "big", "--create", "--json"]
    started = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
    ):
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err)
        rss = PeakRss(proc.pid)
        code = proc.wait()
        seconds = time.perf_counter() - started
        rss.stop()
        out.seek(0)
        err.seek(0)
        lines = [json.loads(line) for line in out if line.strip()]
        progress = [line.strip() for line in err if line.startswith("ingest:")]
    outcomes = Counter(line["outcome"] for line in lines)
    pages = sum(line["pages"] for line in lines if line["outcome"].startswith("indexed"))
    chunks = sum(line["chunks"] for line in lines if line["outcome"].startswith("indexed"))
    return {
        "exit_code": code,
        "seconds": round(seconds, 1),
        "files": len(lines),
        "files_per_s": round(len(lines) / seconds, 2),
        "pages": pages,
        "pages_per_s": round(pages / seconds, 2),
        "chunks": chunks,
        "chunks_per_s": round(chunks / seconds, 2),
        "outcomes": dict(outcomes),
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "peak_rss_tree_mb": round(rss.peak_tree / 2**20, 1),
        "progress_lines": progress[-3:],
    }


def raw_embed_seconds(home: Path) -> tuple[int, float]:
    """The embedder's raw embed() on the manifest's live chunks, in batches of 64 (as ingest)."""
    from app.bootstrap import secure_process

    secure_process()
    from app.container import Enclave

    manifest = next(home.rglob("manifest.sqlite3"))
    with sqlite3.connect(f"file:{manifest}?mode=ro", uri=True) as db:
        texts = [row[0] for row in db.execute("SELECT text FROM chunks ORDER BY rid")]
    os.environ["ENCLAVE_HOME"] = str(home)
    enclave = Enclave()
    try:
        embedder = enclave.embedder
        embedder.embed(["warm up"])
        started = time.perf_counter()
        for lo in range(0, len(texts), 64):
            embedder.embed(texts[lo : lo + 64])
        return len(texts), time.perf_counter() - started
    finally:
        enclave.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="make the folder and workspace here, keep them")
    parser.add_argument("--no-anchor", action="store_true", help="skip the raw embed anchor")
    parser.add_argument("--out", type=Path, default=RESULTS / "bigfolder.json")
    args = parser.parse_args()
    from tests.integration.folder_maker import make_folder

    with tempfile.TemporaryDirectory(prefix="bigfolder-") as tmp:
        base = args.keep or Path(tmp)
        folder, home = base / "folder", base / "home"
        home.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        kinds = make_folder(folder, args.files)
        made_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"made {args.files} files ({size / 2**20:.1f} MB) in {made_s:.1f} s: {dict(kinds)}")
        load_at_start = [round(x, 1) for x in os.getloadavg()]
        first = run_ingest(home, folder)
        print("ingest:", json.dumps(first))
        again = run_ingest(home, folder)
        print("restart (all committed):", json.dumps(again))
        anchor: dict[str, Any] = {}
        if not args.no_anchor:
            n, raw_s = raw_embed_seconds(home)
            anchor = {
                "chunks": n,
                "raw_embed_seconds": round(raw_s, 1),
                "raw_chunks_per_s": round(n / raw_s, 1) if raw_s else None,
                "ratio_raw_embed_to_ingest": round(raw_s / first["seconds"], 3),
            }
            print("anchor:", json.dumps(anchor))
    result = {
        "command": f"{COMMAND} --files {args.files}",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_at_start": load_at_start,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "folder": {"files": args.files, "mb": round(size / 2**20, 1), "kinds": dict(kinds)},
        "ingest": first,
        "restart_all_committed": again,
        "anchor_raw_embed": anchor,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
