"""The team's inference server as a model: what Enclave's path costs over the raw library.

A real `python -m llama_cpp.server` serves the embedded SmolLM2 GGUF on loopback. The same
request (the same messages, greedy, 48 tokens) is sent, alternately, N times each way:

- raw: httpx streaming POST to /v1/chat/completions, reading the SSE lines (the library alone);
- enclave: `InferenceServers.remote(server).generate()`: the RemoteEngine's thread and queue,
  the one client (models.openai_client), the egress guard's allowance for exactly host:port,
  and one fsync'ed, hash-chained audit-ledger line per call.

Reported: median time to the first piece and to the end, and their ratio enclave / raw; and the
time the local fallback needs before its first token when the server refuses connections
(ServerEngine with nothing listening) against the local model asked directly.

    .venv/bin/python bench/bench_inference_server.py [--rounds 10]

Writes bench/results/inference_server.json and .md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"
QUESTION = "In two sentences: what is a deep vein thrombosis and how is it treated?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(model: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
        "smollm2", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
        "--n_threads", "1", "--verbose", "False",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/v1/models")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("llama_cpp.server did not start")


def raw_call(url: str, body: bytes) -> tuple[float, float, str]:
    import httpx

    start = time.perf_counter()
    first, text = 0.0, []
    with (
        httpx.Client(timeout=120, trust_env=False) as http,
        http.stream(
            "POST", url, content=body, headers={"Content-Type": "application/json"}
        ) as response,
    ):
        for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            for choice in json.loads(line[6:]).get("choices", []):
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece and not first:
                    first = time.perf_counter() - start
                text.append(piece)
    return first, time.perf_counter() - start, "".join(text)


def engine_call(engine: Any, messages: Any, options: Any) -> tuple[float, float, str]:
    start = time.perf_counter()
    first, text = 0.0, []
    for event in engine.generate(messages, options):
        if event.text and not first:
            first = time.perf_counter() - start
        text.append(event.text)
    return first, time.perf_counter() - start, "".join(text)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    from app.bootstrap import secure_process

    secure_process()  # the egress guard is on, as in the app
    from app.chat.servers import InferenceServers, ServerEngine
    from app.frontier.keys import KeyStore
    from app.privacy.ledger import AuditLedger
    from app.privacy.policy import parse_policy
    from models.embedded import embedded_chat_model_path
    from models.engine import LlamaEngine
    from models.gguf import read_gguf_info
    from models.openai_client import OpenAICompatibleClient
    from models.types import GenerationOptions, Message

    model = embedded_chat_model_path()
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    policy = parse_policy({"version": 1, "inference_servers": [
        {"id": "team", "base_url": base, "model": "smollm2"},
        {"id": "down", "base_url": f"http://127.0.0.1:{free_port()}/v1", "model": "smollm2"},
    ]})  # fmt: skip
    messages = [Message("user", QUESTION)]
    options = GenerationOptions(max_tokens=48, temperature=0.0, top_k=1, seed=0)
    body = OpenAICompatibleClient(base, "smollm2").build_body(messages, options, stream=True)
    process = start_server(model, port)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = AuditLedger(Path(tmp) / "ledger.jsonl")
        servers = InferenceServers(
            lambda: policy, lambda: KeyStore(backend=object()), lambda: ledger
        )
        engine = servers.remote(policy.inference_server("team"))
        try:
            raw_call(base + "/chat/completions", body)  # warm both paths once
            engine_call(engine, messages, options)
            raw, enclave = [], []
            for _ in range(args.rounds):
                raw.append(raw_call(base + "/chat/completions", body))
                enclave.append(engine_call(engine, messages, options))
            same_text = all(r[2] == e[2] for r, e in zip(raw, enclave, strict=True))
            calls = sum(1 for e in ledger.entries() if e.get("kind") == "inference_call")
        finally:
            engine.close()
            process.terminate()
            process.wait(timeout=10)
        template = read_gguf_info(model).chat_template
        local = LlamaEngine(
            model, chat_format="gguf-template", chat_template=template, n_ctx=2048, n_threads=1
        )
        local.wait_ready()
        try:
            down = ServerEngine(policy.inference_server("down"),
                                lambda: servers.remote(policy.inference_server("down")),
                                lambda: local)  # fmt: skip
            fallback_first = engine_call(down, messages, options)[0]  # the first, not-yet-known
            direct: list[float] = []
            for _ in range(3):  # each from a cold KV cache, as the fallback's was
                local.reset_cache()
                direct.append(engine_call(local, messages, options)[0])
            direct_first = statistics.median(direct)
        finally:
            local.close()

    def med(rows: list[tuple[float, float, str]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    result = {
        "rounds": args.rounds,
        "raw_first_s": round(med(raw, 0), 4),
        "enclave_first_s": round(med(enclave, 0), 4),
        "first_ratio": round(med(enclave, 0) / med(raw, 0), 3),
        "raw_total_s": round(med(raw, 1), 4),
        "enclave_total_s": round(med(enclave, 1), 4),
        "total_ratio": round(med(enclave, 1) / med(raw, 1), 3),
        "same_text": same_text,
        "ledger_lines": calls,
        "fallback_first_s": round(fallback_first, 4),  # includes the local prompt evaluation
        "local_first_s": round(direct_first, 4),
        "fallback_extra_s": round(fallback_first - direct_first, 4),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "inference_server.json").write_text(json.dumps(result, indent=2) + "\n")
    md = [
        "# The team's inference server (bench/bench_inference_server.py)",
        "",
        f"SmolLM2-135M on `python -m llama_cpp.server` (loopback, 1 thread), {args.rounds} "
        "rounds, 48 greedy tokens, medians.",
        "",
        "| | raw httpx | Enclave (RemoteEngine, guard, ledger) | ratio |",
        "|---|---|---|---|",
        f"| first piece | {result['raw_first_s']:.3f} s | {result['enclave_first_s']:.3f} s "
        f"| {result['first_ratio']:.2f} |",
        f"| whole answer | {result['raw_total_s']:.3f} s | {result['enclave_total_s']:.3f} s "
        f"| {result['total_ratio']:.2f} |",
        "",
        f"Same text both ways: {same_text}; ledger lines: {calls} "
        f"({args.rounds + 1} calls). Server refusing connections: the local model's first token "
        f"after {result['fallback_first_s']:.3f} s, against {result['local_first_s']:.3f} s asked "
        f"directly (+{result['fallback_extra_s']:.3f} s).",
        "",
    ]
    (RESULTS / "inference_server.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
