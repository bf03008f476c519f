"""End-to-end evaluation of the routed pipeline with the embedded model (the `enclave eval`
harness on the shared development data): PubMedQA accuracy per compute tier, CUAD abstention and
citation precision, routing accuracy.

    .venv/bin/python bench/bench_eval.py [--limit 40] [--cuad-gen-limit 15] [--threads 1]
                                         [--home DIR] [--only pubmedqa,cuad,routing]

Indexes are built once in --home (default: <tmp>/enclave-eval-home) and reused by later runs.
Writes bench/results/eval.json and eval.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.bootstrap import secure_process  # noqa: E402

secure_process()

RESULTS = ROOT / "bench" / "results"
EVAL = ROOT.parent / "shared" / "eval"
ROUTING_SET = ROOT / "tests" / "data" / "routing_questions.jsonl"


def progress(line: str) -> None:
    print(line, flush=True)


def observations(results: dict[str, Any]) -> list[str]:
    """Plain statements computed from the numbers (so a re-run rewrites them honestly)."""
    out: list[str] = []
    pm = results.get("pubmedqa")
    if pm:
        base = pm["majority_baseline"]
        tiers = pm["tiers"]
        direct = tiers.get("direct")
        for name, t in tiers.items():
            lo, hi = t["accuracy_ci95"]
            verdict = "above" if lo > base else "below" if hi < base else "not distinguishable from"
            out.append(
                f"- PubMedQA {name}: accuracy {t['accuracy']} (95% CI {lo}–{hi}) is {verdict} "
                f"the majority-class baseline {base}; {t['parsed']:.0%} of answers carried a "
                f"yes/no/maybe at all."
            )
            if direct and name != "direct":
                gain = round(t["accuracy"] - direct["accuracy"], 4)
                cost = t.get("seconds_standalone_per_q") or t["seconds_per_q"]
                times = cost / max(direct["seconds_per_q"], 1e-9)
                out.append(
                    f"  Against direct: {gain:+.3f} accuracy for {times:.1f}x the seconds per "
                    "question"
                    + (
                        " (a gain within the noise of this sample size)."
                        if abs(gain) < 0.1
                        else "."
                    )
                )
    cuad = results.get("cuad")
    if cuad:
        ro, g = cuad["retrieval_only"], cuad["generation"]
        out.append(
            f"- CUAD: the best retrieval similarity is {ro['mean_support_unanswerable']} on "
            f"average for unanswerable and {ro['mean_support_answerable']} for answerable "
            "questions, so retrieval alone cannot tell them apart; abstention has to come from "
            "the answer "
            f'(said "not found" on {g["said_not_found_on_unanswerable"]:.0%} of unanswerable and '
            f"{g['said_not_found_on_answerable']:.0%} of answerable questions)."
        )
    return out


def main() -> int:
    from app.checks import evaluation
    from app.cli.eval import limit_torch_threads, render_markdown
    from app.container import Enclave
    from app.paths import Paths
    from app.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=40, help="PubMedQA questions")
    ap.add_argument("--cuad-gen-limit", type=int, default=15, help="CUAD answers of each kind")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "enclave-eval-home")
    ap.add_argument("--only", default="pubmedqa,cuad,routing")
    ap.add_argument("--render", action="store_true", help="only rewrite eval.md from eval.json")
    args = ap.parse_args()
    only = set() if args.render else {x.strip() for x in args.only.split(",")}

    limit_torch_threads(args.threads)
    settings = Settings(n_threads=args.threads, max_answer_tokens=args.max_tokens,
                        top_k_sources=args.k)  # fmt: skip
    enclave = Enclave(Paths.from_env({"ENCLAVE_HOME": str(args.home)}), settings)
    results: dict[str, Any] = {}
    previous = RESULTS / "eval.json"
    if previous.exists():  # keep the parts not re-run this time
        results = json.loads(previous.read_text(encoding="utf-8"))
    started = time.perf_counter()
    try:
        if "routing" in only:
            progress("routing ...")
            t = time.perf_counter()
            results["routing"] = evaluation.eval_routing(enclave, ROUTING_SET)
            results["routing"]["wall_seconds"] = round(time.perf_counter() - t, 1)
        if "pubmedqa" in only:
            progress("pubmedqa ...")
            t = time.perf_counter()
            results["pubmedqa"] = evaluation.eval_pubmedqa(
                enclave, EVAL / "pubmedqa" / "dev.jsonl",
                tiers=["direct", "self_consistency", "reasoning"], limit=args.limit,
                samples=args.samples, progress=progress,
            )  # fmt: skip
            results["pubmedqa"]["wall_seconds"] = round(time.perf_counter() - t, 1)
        if "cuad" in only:
            progress("cuad ...")
            t = time.perf_counter()
            results["cuad"] = evaluation.eval_cuad(
                enclave, EVAL / "cuad" / "cuad_subset.jsonl", gen_limit=args.cuad_gen_limit,
                tier="direct", k=args.k, progress=progress,
            )  # fmt: skip
            results["cuad"]["wall_seconds"] = round(time.perf_counter() - t, 1)
    finally:
        enclave.close()
    ran = bool(only)
    results["run"] = (
        results.get("run", {})
        if not ran
        else {
            "threads": args.threads,
            "max_tokens": args.max_tokens,
            "k": args.k,
            "samples": args.samples,
            "seconds": round(time.perf_counter() - started, 1),
            "loadavg": [round(x, 1) for x in os.getloadavg()],
            "model": settings.default_model,
        }
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "eval.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    run = results["run"]
    walls = (
        ", ".join(
            f"{name} {results[name]['wall_seconds']:.0f} s"
            for name in ("pubmedqa", "cuad", "routing")
            if name in results and "wall_seconds" in results[name]
        )
        or "not recorded"
    )
    header = [
        "## Evaluation: tiers, abstention, citations, routing (`enclave eval`)",
        "",
        f"Produced by `bench/bench_eval.py` with the embedded SmolLM2-135M-Instruct (Q4_1), "
        f"{run['threads']} llama.cpp thread(s), at most {run['max_tokens']} new tokens per "
        f"answer (reasoning tier: 512), k={run['k']} sources, N={run['samples']} for "
        f"self-consistency; the same seeded question sample for every tier. Wall time per part "
        f"(indexes already built): {walls}; load average {run['loadavg']} on a 2-core machine "
        "shared with other jobs, so seconds are upper bounds. Tiers run in the order direct, "
        "self-consistency, reasoning on each question: the later ones reuse the first one's "
        "prompt evaluation, and `s/question standalone` adds that evaluation back.",
        "",
    ]
    body = render_markdown(
        {k: v for k, v in results.items() if k in ("pubmedqa", "cuad", "routing")}
    )
    notes = observations(results)
    if notes:
        body += "\n### What the numbers say\n\n" + "\n".join(notes) + "\n"
    (RESULTS / "eval.md").write_text("\n".join(header) + "\n" + body + "\n", encoding="utf-8")
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
