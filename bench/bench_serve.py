"""`enclave serve` under load: aggregate tokens/s with 1, 4 and 8 clients against one in-process
answer (ChatService.ask) to the same question on the same model.

The same ENCLAVE_HOME (one small contract ingested), the same question, the same settings and
the "quick" tier (one direct answer) on both sides: `AskOptions(choice="quick")` in process,
`reasoning_effort: "low"` through the API. Tokens are the model's completion tokens (the
`usage` of each answer; ChatAnswer.stats in process); the wall time runs from sending the first
request of a round to the last answer's end, so retrieval, the fact check, HTTP and SSE all
count. One model means one inference thread: concurrent clients queue for it, so the ratio to
expect is about 1.0 (no batching), with retrieval of one request overlapping generation of
another. The server runs as a real `enclave serve` subprocess driven by the official `openai`
client, one thread per client.

    .venv/bin/python bench/bench_serve.py [--rounds 3]

Writes bench/results/serve.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"
COMMAND = ".venv/bin/python bench/bench_serve.py"
QUESTION = "What is the monthly fee?"
CONTRACT = (
    "MASTER SERVICES AGREEMENT\n\nThis Master Services Agreement is made between Acme "
    "Logistics LLC and Borealis Software Inc.\n\n1. Term. This Agreement begins on March 1, "
    "2024 and continues for three (3) years.\n\n2. Fees. Acme Logistics LLC shall pay Borealis "
    "Software Inc. a fee of $12,500 per month.\n\n3. Termination. Either party may terminate "
    "this Agreement for convenience by giving sixty (60) days written notice to the other "
    "party.\n\n4. Governing Law. This Agreement is governed by the laws of the State of "
    "Delaware.\n"
)
CLIENTS = (1, 4, 8)


def in_process(home: Path, rounds: int) -> dict[str, Any]:
    """One answer at a time through ChatService.ask in this process (after a warm-up)."""
    os.environ["ENCLAVE_HOME"] = str(home)
    from app.bootstrap import secure_process
    from app.chat.types import AskOptions, ChatAnswer
    from app.container import Enclave

    secure_process()
    with Enclave() as enclave:
        ws = enclave.workspaces.get("acme")
        runs = []
        for i in range(rounds + 1):
            started = time.perf_counter()
            answer = [e for e in enclave.chat.ask(ws, QUESTION, AskOptions(choice="quick"))][-1]
            seconds = time.perf_counter() - started
            assert isinstance(answer, ChatAnswer) and answer.stats is not None
            enclave.indexes.release(ws.id)  # as the server does between requests
            if i:  # the first one loads the models
                runs.append({"tokens": answer.stats.completion_tokens, "seconds": seconds,
                             "model_seconds": round(answer.stats.seconds_total, 3)})  # fmt: skip
    return _summary(runs)


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rates = [r["tokens"] / r["seconds"] for r in runs]
    return {
        "runs": runs,
        "tokens_per_s_median": round(statistics.median(rates), 2),
        "tokens_median": statistics.median(r["tokens"] for r in runs),
    }


def start_server(home: Path) -> tuple[subprocess.Popen[str], str, str]:
    env = dict(os.environ, ENCLAVE_HOME=str(home), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--session-key", "--port", "0"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or ()], daemon=True).start()
    key = url = ""
    while not url:
        line = lines.get(timeout=600)
        if line.startswith("enclave-"):
            key = line.strip()
        if match := re.search(r"(http://127\.0\.0\.1:\d+/v1)", line):
            url = match.group(1)
    return proc, url, key


def one_client(url: str, key: str) -> tuple[int, float]:
    """One streamed answer: (completion tokens, seconds ChatService.ask took in the server)."""
    import openai

    client = openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=900)
    chunks = list(
        client.chat.completions.create(
            model="enclave:acme", messages=[{"role": "user", "content": QUESTION}],
            stream=True, reasoning_effort="low",
        )
    )  # fmt: skip
    usage, ext = chunks[-1].usage, chunks[-1].model_extra["enclave"]
    assert usage is not None and not ext["not_found"]
    return int(usage.completion_tokens), float(ext["seconds"])


def served(home: Path, rounds: int) -> dict[str, Any]:
    proc, url, key = start_server(home)
    try:
        one_client(url, key)  # warm-up: the router's classifier, the index
        out: dict[str, Any] = {}
        for n in CLIENTS:
            runs = []
            for _ in range(rounds if n == 1 else max(1, rounds // 2)):
                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=n) as pool:
                    answers = list(pool.map(lambda _: one_client(url, key), range(n)))
                runs.append({
                    "tokens": sum(t for t, _ in answers),
                    "seconds": time.perf_counter() - started,
                    "per_client_tokens": [t for t, _ in answers],
                    "per_client_ask_seconds": [round(s, 3) for _, s in answers],
                })  # fmt: skip
            out[str(n)] = _summary(runs)
        return out
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        home, docs = Path(tmp) / "home", Path(tmp) / "docs"
        docs.mkdir()
        (docs / "msa.txt").write_text(CONTRACT, encoding="utf-8")
        env = dict(os.environ, ENCLAVE_HOME=str(home))
        subprocess.run(
            [sys.executable, "-m", "app", "ingest", str(docs / "msa.txt"), "-w", "acme",
             "--create"], env=env, cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        load_before = os.getloadavg()
        baseline = in_process(home, args.rounds)
        api = served(home, args.rounds)
        load_after = os.getloadavg()
    base = baseline["tokens_per_s_median"]
    result = {
        "command": f"{COMMAND} --rounds {args.rounds}",
        "question": QUESTION,
        "tier": "quick (one direct answer), the embedded SmolLM2-135M Q4_1 GGUF on the CPU",
        "in_process": baseline,
        "serve": api,
        "ratio_to_in_process": {n: round(api[n]["tokens_per_s_median"] / base, 2) for n in api},
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"in process: {base} tokens/s (median of {args.rounds})")
    for n in api:
        print(
            f"{n} client(s): {api[n]['tokens_per_s_median']} tokens/s aggregate, "
            f"{result['ratio_to_in_process'][n]}x in process"
        )


if __name__ == "__main__":
    main()
