"""Run every benchmark, then assemble bench/RESULTS.md from bench/results/*.md.

    .venv/bin/python bench/run_all.py            # run all, then assemble
    .venv/bin/python bench/run_all.py --assemble # only assemble from the last results
    .venv/bin/python bench/run_all.py engine ui  # run only bench_engine.py and bench_ui.py

Each bench_<name>.py prints its table and writes bench/results/<name>.json and <name>.md.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
ORDER = [
    "engine",
    "cold_start",
    "extract",
    "ingest",
    "kill",
    "retrieval",
    "ui",
    "router",
    "eval",
    "redaction",
    "bundle",
    "cuda",
]


def run(names: list[str]) -> int:
    failed = 0
    for name in names:
        script = BENCH / f"bench_{name}.py"
        if not script.exists():
            continue
        print(f"== {script.name}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=BENCH.parent)
        print(f"== {script.name}: exit {code} in {time.perf_counter() - started:.0f} s", flush=True)
        failed += code != 0
    return failed


def assemble() -> Path:
    parts = [
        "# Benchmark results\n",
        "Measured on the project's reference machine (2 cores, 24 GiB, no GPU) unless a section "
        "says otherwise. Every figure comes from a script in `bench/`; each section names the "
        "command that re-runs it. `make bench` re-runs them all and rewrites this file.\n",
        f"Python {platform.python_version()} on {platform.platform()}.\n",
    ]
    known = [RESULTS / f"{n}.md" for n in ORDER]
    extra = sorted(p for p in RESULTS.glob("*.md") if p not in known)
    for md in [*known, *extra]:
        if md.exists():
            parts.append(_one_section(md.read_text(encoding="utf-8").strip()) + "\n")
    out = BENCH / "RESULTS.md"
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def _one_section(text: str) -> str:
    """A results file is one section of RESULTS.md: a file headed "# Title" is moved one
    heading level down ("## Title", its "## parts" become "### parts")."""
    if not text.startswith("# "):
        return text
    return re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", text, flags=re.MULTILINE)


def main(argv: list[str]) -> int:
    failed = 0
    if "--assemble" not in argv:
        names = [a for a in argv if not a.startswith("-")] or ORDER
        failed = run(names)
    print(f"wrote {assemble()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
