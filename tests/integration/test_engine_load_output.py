"""Loading a model on the engine's thread does not swallow what other threads print.

llama-cpp-python, asked to be quiet (verbose=False), points file descriptors 1 and 2 at
/dev/null for the whole process while it loads a model. `enclave ask` loads its model in the
background while it searches (app.chat.engines.preload), so the evidence, a "Not found" or
the `--json` answer printed meanwhile was lost now and then. The real GGUF, a real process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, time
from models.embedded import embedded_chat_model_path
from models.engine import LlamaEngine

engines = []
for _ in range(3):  # three loads; print all the while, on this thread, to the real stdout
    engine = LlamaEngine(embedded_chat_model_path(), chat_format="chatml", n_ctx=512)
    engines.append(engine)
    n = 0
    while not engine._ready.is_set():
        print(f"line {len(engines)}-{n}", flush=True)
        print(f"err {len(engines)}-{n}", file=sys.stderr, flush=True)
        n += 1
        time.sleep(0.002)
    engine.wait_ready(60)
    print(f"printed {len(engines)} {n}", flush=True)
for engine in engines:
    engine.close()
"""


def test_lines_printed_while_a_model_loads_all_arrive() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.splitlines()
    totals = [int(x.split()[2]) for x in out if x.startswith("printed ")]
    assert len(totals) == 3 and sum(totals) > 0, proc.stdout[-500:]
    lines = [x for x in out if x.startswith("line ")]
    errs = [x for x in proc.stderr.splitlines() if x.startswith("err ")]
    assert len(lines) == sum(totals), f"{sum(totals) - len(lines)} stdout lines were lost"
    assert len(errs) == sum(totals), f"{sum(totals) - len(errs)} stderr lines were lost"
    # and llama.cpp's own chatter stays out of both
    assert all(x.startswith(("line ", "printed ")) for x in out), out[:5]
