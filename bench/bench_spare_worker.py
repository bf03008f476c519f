"""The parse worker's start-up cost: N PDF, DOCX and HTML files through rag.extract.extract().

After each file the main thread spins for --busy seconds of CPU, a stand-in for embedding the
file's chunks (a spare worker starts during it). Printed: seconds per file beyond the stand-in,
and the CPU the worker processes used. The folder is tests/integration/folder_maker.py's.

    .venv/bin/python bench/bench_spare_worker.py [--files 120] [--busy 0.2]

For the "fresh worker per file" row, run the same file from a checkout of commit 88d5dcd
(`cd /tmp/before && /path/to/.venv/bin/python /path/to/bench_spare_worker.py`: the current
directory's rag is imported). For the "imports rag only" row, shorten
rag.parse_worker.PRELOAD to its first three names. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=120)
    parser.add_argument("--busy", type=float, default=0.2)
    args = parser.parse_args()
    from rag.extract import extract
    from tests.integration.folder_maker import make_folder

    with tempfile.TemporaryDirectory(prefix="spare-") as tmp:
        folder = Path(tmp) / "folder"
        make_folder(folder, args.files * 5 // 2)  # 300 files hold 120 PDF, DOCX and HTML
        files = sorted(
            p for p in folder.rglob("*") if p.is_file() and p.suffix in (".pdf", ".docx", ".html")
        )[: args.files]
        outcomes: dict[str, int] = {}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        for path in files:
            result = extract(path)
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            spin = time.perf_counter()
            while time.perf_counter() - spin < args.busy:
                pass
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    per_file = (wall - args.busy * len(files)) / len(files)
    print(
        f"{len(files)} files: {wall:.1f} s, {per_file:.3f} s per file beyond the stand-in, "
        f"worker CPU {cpu:.1f} s, {outcomes}, load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
