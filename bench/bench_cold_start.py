"""Cold start of `enclave ask` to its first token, and peak RSS, on a real workspace.

Anchor: the same question through a bare script that imports llama_cpp, loads the same GGUF and
streams (no retrieval, no embedder): the difference is what Enclave's set-up costs.

    .venv/bin/python bench/bench_cold_start.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTRACT = (
    REPO.parent
    / "shared"
    / "eval"
    / "cuad"
    / "contracts"
    / "LIMEENERGYCO_09_09_1999-EX-10-DISTRIBUTOR AGREEMENT.txt"
)
QUESTION = "Which state's law governs this agreement?"
RAW = """
import sys, time
t0 = time.perf_counter()
import llama_cpp
from models.embedded import embedded_chat_model_path
llm = llama_cpp.Llama(str(embedded_chat_model_path()), n_ctx=4096, verbose=False)
for i, _ in enumerate(llm.create_chat_completion(
        [{"role": "user", "content": sys.argv[1]}], max_tokens=8, stream=True)):
    if i == 1:
        print(f"FIRST {time.perf_counter() - t0:.3f}", flush=True)
        break
"""


def first_token_seconds(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds from process start to the first streamed answer byte, peak RSS in MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    first = proc.stdout.read(1)
    elapsed = time.perf_counter() - started
    rest = proc.stdout.read()
    proc.wait()
    if not first:
        raise RuntimeError(f"{cmd} printed nothing ({rest!r})")
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, rss_mb


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, ENCLAVE_HOME=tmp, PYTHONUNBUFFERED="1")
        enclave = [sys.executable, "-m", "app"]
        subprocess.run(
            [*enclave, "ingest", str(CONTRACT), "--workspace", "bench"],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        runs = [
            first_token_seconds([*enclave, "ask", QUESTION, "--workspace", "bench"], env)
            for _ in range(3)
        ]
        raw = [
            first_token_seconds(
                [sys.executable, "-c", RAW, QUESTION], dict(env, PYTHONPATH=str(REPO))
            )
            for _ in range(3)
        ]
    ask_s = sorted(r[0] for r in runs)[1]
    raw_s = sorted(r[0] for r in raw)[1]
    peak = max(r[1] for r in runs)
    figures = {
        "enclave_ask_first_token_s": round(ask_s, 2),
        "raw_llama_first_token_s": round(raw_s, 2),
        "ratio_enclave_over_raw": round(ask_s / raw_s, 2),
        "peak_rss_mb_any_child": round(peak),
    }
    print(json.dumps(figures, indent=2))
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cold_start.json").write_text(json.dumps(figures, indent=2))
    (out / "cold_start.md").write_text(
        "## Cold start: `enclave ask` to first token\n\n"
        "| measure | Enclave | anchor: bare llama-cpp-python script | ratio |\n|---|---|---|---|\n"
        f"| process start to first streamed byte (median of 3) | {ask_s:.2f} s | {raw_s:.2f} s "
        f"| {ask_s / raw_s:.2f} |\n\n"
        f"Peak RSS of the largest `enclave` process (ingest or ask): {peak:.0f} MB. "
        "Enclave's figure includes "
        "importing torch and loading the embedder, hybrid retrieval over one CUAD contract and "
        "a prompt with the retrieved sources; the anchor loads only the GGUF and answers the bare "
        "question.\n\nRe-run: `.venv/bin/python bench/bench_cold_start.py`\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
