"""LlamaEngine against raw llama_cpp.Llama on the embedded SmolLM2-135M GGUF.

1. Generation speed: tokens/s after the first token, engine (its own thread, a queue, text
   assembly, cancel checks) vs raw `Llama.generate` in the calling thread; same GGUF, prompt,
   threads, greedy sampler and token count. Runs are interleaved; medians. Target ratio >= 0.95.
2. Time to first token of a follow-up turn, with the KV prefix kept vs after reset_cache().
3. Cancel latency (cancel() -> the stream's final event): during decoding, and during the
   evaluation of a ~2000-token prompt. Anchor: how long that prompt evaluation takes in raw
   llama.cpp, i.e. what a cancel checked only between tokens would wait. Requirement: <= 200 ms.

    .venv/bin/python bench/bench_engine.py [--repeat 5]

Writes bench/results/engine.json and bench/results/engine.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "bench" / "results"
COMMAND = ".venv/bin/python bench/bench_engine.py"
N_TOKENS = 96
STORY = [("user", "Write a long story about a lighthouse keeper and a storm.")]


def _doc(words: int) -> str:
    return " ".join(f"Clause {i} of the agreement concerns the parties." for i in range(words // 8))


def raw_decode_rate(llm: Any, tokens: list[int], n: int) -> tuple[float, int]:
    """Raw Llama.generate, greedy: (tokens/s after the first token, tokens produced)."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    llm.reset()
    produced, first, last = 0, 0.0, 0.0
    for tok in llm.generate(tokens, top_k=40, top_p=0.95, temp=0.0, repeat_penalty=1.1):
        now = time.perf_counter()
        if llama_cpp.llama_vocab_is_eog(vocab, tok):
            break
        llm.detokenize([tok])  # the raw path also turns tokens into text
        produced += 1
        first = first or now
        last = now
        if produced >= n:
            break
    return (produced - 1) / (last - first), produced


def engine_decode_rate(engine: Any, n: int) -> tuple[float, int]:
    from models.types import GenerationOptions, Message

    engine.reset_cache()
    opts = GenerationOptions(max_tokens=n, temperature=0.0, top_k=40, top_p=0.95)
    first, last, produced = 0.0, 0.0, 0
    for event in engine.generate([Message(r, c) for r, c in STORY], opts):  # type: ignore[arg-type]
        now = time.perf_counter()
        if event.done:
            produced = event.stats.completion_tokens
            last = now
        elif not first:
            first = now
    return (produced - 1) / (last - first), produced


def compare_generation(engine: Any, raw: Any, tokens: list[int], repeat: int) -> dict[str, Any]:
    raw_rates, eng_rates, counts = [], [], set()
    for _ in range(repeat):
        r, n_raw = raw_decode_rate(raw, tokens, N_TOKENS)
        e, n_eng = engine_decode_rate(engine, N_TOKENS)
        raw_rates.append(r)
        eng_rates.append(e)
        counts.update({n_raw, n_eng})
    raw_tps, eng_tps = statistics.median(raw_rates), statistics.median(eng_rates)
    return {
        "threads": engine.n_threads,
        "tokens_per_run": sorted(counts),
        "raw_tokens_per_s": round(raw_tps, 1),
        "engine_tokens_per_s": round(eng_tps, 1),
        "ratio": round(eng_tps / raw_tps, 3),
        "raw_best_tokens_per_s": round(max(raw_rates), 1),
        "engine_best_tokens_per_s": round(max(eng_rates), 1),
        "ratio_of_best": round(max(eng_rates) / max(raw_rates), 3),
        "raw_runs": [round(x, 1) for x in raw_rates],
        "engine_runs": [round(x, 1) for x in eng_rates],
    }


def follow_up_ttft(engine: Any, reuse: bool) -> tuple[float, int]:
    from models.types import GenerationOptions, Message

    opts = GenerationOptions(max_tokens=16, temperature=0.0)
    first = [Message("user", _doc(600) + "\nWhich clause mentions the parties first?")]
    answer = ""
    engine.reset_cache()
    for event in engine.generate(first, opts):
        answer += event.text
    follow = [*first, Message("assistant", answer), Message("user", "And the last one?")]
    if not reuse:
        engine.reset_cache()
    for event in engine.generate(follow, opts):
        if event.done:
            return event.stats.seconds_to_first_token, event.stats.reused_prompt_tokens
    raise RuntimeError("no stats")


def cancel_latency(engine: Any, messages: list[Any], delay: float, max_tokens: int) -> dict:
    from models.types import CancelToken, GenerationOptions

    cancel = CancelToken()
    fired: list[float] = []

    def fire() -> None:
        time.sleep(delay)
        fired.append(time.perf_counter())
        cancel.cancel()

    engine.reset_cache()
    opts = GenerationOptions(max_tokens=max_tokens, temperature=0.0)
    stream = engine.generate(messages, opts, cancel)
    threading.Thread(target=fire, daemon=True).start()
    for event in stream:
        if event.done:
            ended = time.perf_counter()
            return {
                "latency_ms": (ended - fired[0]) * 1000 if fired else None,
                "finish": event.stats.finish_reason,
                "tokens": event.stats.completion_tokens,
            }
    raise RuntimeError("no stats")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import llama_cpp

    from models import llama_log
    from models.embedded import embedded_chat_model_path
    from models.engine import LlamaEngine
    from models.gguf import read_gguf_info
    from models.hardware import detect_hardware
    from models.types import Message

    llama_log.install()
    path = embedded_chat_model_path()
    info = read_gguf_info(path)
    hw = detect_hardware()
    threads = hw.physical_cores
    load_before = os.getloadavg()
    engine = LlamaEngine(
        path, chat_format="gguf-template", chat_template=info.chat_template, n_ctx=4096
    )
    engine.wait_ready()
    raw = llama_cpp.Llama(
        str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    from models.chat_format import get_chat_format

    fmt = get_chat_format("gguf-template", info.chat_template, info.bos_token, info.eos_token)
    story_prompt = fmt.render([Message(r, c) for r, c in STORY])  # type: ignore[arg-type]
    story_tokens = raw.tokenize(story_prompt.encode(), add_bos=True, special=True)

    # 1. generation speed, interleaved; also with one thread each (less sensitive to other
    #    load on the machine: no thread barriers)
    generation = compare_generation(engine, raw, story_tokens, args.repeat)
    one = LlamaEngine(path, chat_format="gguf-template", chat_template=info.chat_template,
                      n_ctx=1024, n_threads=1)  # fmt: skip
    one.wait_ready()
    raw_one = llama_cpp.Llama(str(path), n_ctx=1024, n_threads=1, n_threads_batch=1, verbose=False)
    generation_1 = compare_generation(one, raw_one, story_tokens, args.repeat)
    one.close()
    raw_one.close()

    # anchor for cancel during prompt evaluation: raw evaluation time of the long prompt
    long_msgs = [Message("user", _doc(1700) + "\nSummarise the agreement.")]
    long_tokens = raw.tokenize(fmt.render(long_msgs).encode(), add_bos=True, special=True)
    raw.reset()
    t = time.perf_counter()
    raw.eval(long_tokens)
    raw_prompt_s = time.perf_counter() - t
    raw.close()

    # 2. follow-up time to first token
    with_reuse = [follow_up_ttft(engine, True) for _ in range(3)]
    without = [follow_up_ttft(engine, False) for _ in range(3)]

    # 3. cancel latency
    rng = random.Random(0)
    story = [Message(r, c) for r, c in STORY]  # type: ignore[arg-type]
    decode_runs = [
        cancel_latency(engine, story, rng.uniform(0.3, 1.0), 2000) for _ in range(args.repeat * 2)
    ]
    prompt_runs = [
        cancel_latency(engine, long_msgs, rng.uniform(0.2, min(1.5, raw_prompt_s * 0.6)), 16)
        for _ in range(args.repeat * 2)
    ]
    engine.close()

    def lat(runs: list[dict]) -> dict[str, Any]:
        ms = [r["latency_ms"] for r in runs if r["finish"] == "cancelled"]
        return {
            "runs": len(runs),
            "cancelled": len(ms),
            "median_ms": round(statistics.median(ms), 1) if ms else None,
            "max_ms": round(max(ms), 1) if ms else None,
        }

    results: dict[str, Any] = {
        "model": path.name,
        "threads": threads,
        "cpu": hw.system_info,
        "python": platform.python_version(),
        "llama_cpp_python": hw.llama_cpp_version,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "abort_flag_native": engine._abort.native,
        "generation": generation,
        "generation_1_thread": generation_1,
        "follow_up_ttft": {
            "prompt_tokens_reused": with_reuse[0][1],
            "with_reuse_s": round(statistics.median(t for t, _ in with_reuse), 3),
            "without_reuse_s": round(statistics.median(t for t, _ in without), 3),
        },
        "cancel": {
            "during_decode": lat(decode_runs),
            "during_prompt_eval": lat(prompt_runs),
            "long_prompt_tokens": len(long_tokens),
            "raw_prompt_eval_s": round(raw_prompt_s, 2),
        },
    }
    write(results)
    return 0


def write(r: dict[str, Any]) -> None:
    g, g1, f, c = r["generation"], r["generation_1_thread"], r["follow_up_ttft"], r["cancel"]
    d, p = c["during_decode"], c["during_prompt_eval"]
    rows = [
        ("generation tok/s, median (after 1st token)", g["engine_tokens_per_s"],
         g["raw_tokens_per_s"], f"ratio {g['ratio']} (target >= 0.95)"),
        ("generation tok/s, best run", g["engine_best_tokens_per_s"],
         g["raw_best_tokens_per_s"], f"ratio {g['ratio_of_best']}"),
        ("generation tok/s, 1 thread, median", g1["engine_tokens_per_s"],
         g1["raw_tokens_per_s"], f"ratio {g1['ratio']}; best-run ratio {g1['ratio_of_best']}"),
        ("follow-up TTFT, KV prefix kept (s)", f["with_reuse_s"], f["without_reuse_s"],
         f"{f['prompt_tokens_reused']} prompt tokens reused"),
        ("cancel during decode, max (ms)", d["max_ms"], "-",
         f"median {d['median_ms']} ms, {d['cancelled']}/{d['runs']} cancelled"),
        ("cancel during prompt eval, max (ms)", p["max_ms"], round(c["raw_prompt_eval_s"] * 1000),
         f"median {p['median_ms']} ms, {p['cancelled']}/{p['runs']} cancelled; anchor = "
         f"raw eval of {c['long_prompt_tokens']} tokens"),
    ]  # fmt: skip
    print(f"{'measure':<44} {'engine':>8} {'anchor':>8}  note")
    for name, eng, anchor, note in rows:
        print(f"{name:<44} {eng!s:>8} {anchor!s:>8}  {note}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "engine.json").write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    lines = [
        "## Local engine (`bench/bench_engine.py`)",
        "",
        f"`LlamaEngine` (own inference thread, request queue, UTF-8/stop-string assembly, "
        f"cancel checks) against raw `llama_cpp.Llama` on {r['model']}, {r['threads']} threads, "
        f"greedy, {g['tokens_per_run']} tokens per run, median of interleaved runs; "
        f"llama-cpp-python {r['llama_cpp_python']}, Python {r['python']}. "
        f"Load average before/after: {r['load_average_before']} / {r['load_average_after']} "
        "(a shared machine: figures move with it).",
        "",
        "| measure | engine | anchor | note |",
        "|---|---:|---:|---|",
        *[f"| {n} | {e} | {a} | {t} |" for n, e, a, t in rows],
        "",
        "Anchors: raw `Llama.generate` tokens/s; follow-up TTFT after `reset_cache()` (no reuse); "
        "for cancel during a prompt, raw llama.cpp's time to evaluate that prompt (what a cancel "
        "checked only between tokens would wait). Requirement: cancel <= 200 ms.",
        "",
        f"Re-run: `{COMMAND}`",
        "",
    ]
    (RESULTS / "engine.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
