"""`enclave eval`: check the installed models on labelled data before trusting them.

    enclave eval pubmedqa --data dev.jsonl --limit 60 --tiers direct,reasoning,self_consistency
    enclave eval cuad --data cuad_subset.jsonl --gen-limit 20
    enclave eval routing --data routing_questions.jsonl

Each writes <out>/<name>.json (ids, labels and numbers; no document text, no answers) and prints
a Markdown summary. Evaluation workspaces are named eval-*; run with ENCLAVE_HOME pointing at a
scratch folder to keep them apart from real work.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from app.cli.output import CliError

if TYPE_CHECKING:
    from app.container import Enclave
    from app.routing.router import Tier


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="measure answers, abstention, citations and routing")
    esub = p.add_subparsers(dest="eval_command", metavar="DATASET", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--data", type=Path, required=True, help="the labelled data file")
        q.add_argument("--out", type=Path, default=Path("eval-results"), help="output folder")
        q.add_argument(
            "--threads", type=int, help="llama.cpp and torch threads (default: settings)"
        )
        q.add_argument("--max-tokens", type=int, help="new tokens per answer (default: settings)")
        q.add_argument("--seed", type=int, default=0, help="seed of the question sample")
        q.set_defaults(func=cmd_eval)

    q = esub.add_parser("pubmedqa", help="yes/no/maybe accuracy per compute tier")
    common(q)
    q.add_argument("--limit", type=int, default=60, help="questions (a seeded sample)")
    q.add_argument("--tiers", default="direct,reasoning,self_consistency")
    q.add_argument("--samples", type=int, default=5, help="N for self-consistency")
    q.add_argument("--k", type=int, default=3, help="sources per question")

    q = esub.add_parser("cuad", help="abstention on unanswerable clauses, citation precision")
    common(q)
    q.add_argument("--gen-limit", type=int, default=20, help="generated answers of each kind")
    q.add_argument("--tier", default="direct", help="tier for the generated answers, or auto")
    q.add_argument("--k", type=int, default=3, help="sources per question")

    q = esub.add_parser("routing", help="domain routing accuracy on labelled questions")
    common(q)

    q = esub.add_parser(
        "qa", help="the answers a person sees: evidence, not found, unsupported facts"
    )
    common(q)
    q.add_argument("--docs", type=Path, required=True, help="the folder of the documents")
    q.add_argument("--limit", type=int, help="questions (a seeded sample; default: all)")
    q.add_argument("--tier", default="auto", help="the compute tier, or auto (the router)")


def _tune(enclave: Enclave, args: argparse.Namespace) -> None:
    """Per-run settings, applied before any model or service is built."""
    update: dict[str, Any] = {}
    if args.threads:
        update["n_threads"] = args.threads
        limit_torch_threads(args.threads)
    if args.max_tokens:
        update["max_answer_tokens"] = args.max_tokens
    if getattr(args, "k", None):
        update["top_k_sources"] = args.k
    if update:
        enclave.settings = enclave.settings.model_copy(update=update)


def limit_torch_threads(n: int) -> None:
    """Embed with `n` torch threads. On a shared, busy machine one thread embeds a single
    question several times faster than torch's default pool (bench/results/router.md).
    Nothing to do where torch is not installed (the one-folder app: ONNX Runtime embeds)."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(max(1, n))


def _tier(name: str) -> Tier | None:
    from app.routing.router import TIERS

    if name == "auto":
        return None
    if name not in TIERS:
        raise CliError(f"Unknown tier {name!r}; choose from auto, {', '.join(TIERS)}.")
    return cast("Tier", name)


def cmd_eval(args: argparse.Namespace, enclave: Enclave) -> int:
    import sys

    from app.checks import evaluation

    if not args.data.is_file():
        raise CliError(f"There is no data file at {args.data}.")
    _tune(enclave, args)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    name = args.eval_command
    if name == "pubmedqa":
        tiers = [t for t in (_tier(x.strip()) for x in args.tiers.split(",")) if t is not None]
        if not tiers:
            raise CliError("Name at least one tier with --tiers.")
        results = evaluation.eval_pubmedqa(
            enclave, args.data, tiers=tiers, limit=args.limit, samples=args.samples,
            seed=args.seed, progress=progress,
        )  # fmt: skip
    elif name == "cuad":
        results = evaluation.eval_cuad(
            enclave, args.data, gen_limit=args.gen_limit, tier=_tier(args.tier), k=args.k,
            seed=args.seed, progress=progress,
        )  # fmt: skip
    elif name == "qa":
        from app.checks.qa import eval_qa, render

        results = eval_qa(
            enclave, args.data, args.docs, limit=args.limit, seed=args.seed,
            tier=_tier(args.tier), progress=progress,
        )  # fmt: skip
    else:
        results = evaluation.eval_routing(enclave, args.data)
    results["settings"] = {
        "n_threads": enclave.settings.n_threads,
        "max_answer_tokens": enclave.settings.max_answer_tokens,
        "top_k_sources": enclave.settings.top_k_sources,
        "default_model": enclave.settings.default_model,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / (f"qa-{args.data.stem}.json" if name == "qa" else f"{name}.json")
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if name == "qa":
        from app.checks.qa import render

        print(render(results))
    else:
        print(render_markdown({name: results}))
    print(f"Wrote {out}", file=sys.stderr)
    return 0


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}".rstrip("0").rstrip(".") if abs(x) < 1000 else f"{x:.0f}"
    if isinstance(x, list) and len(x) == 2:
        return f"{_fmt(x[0])}–{_fmt(x[1])}"
    return str(x)


def render_markdown(results: dict[str, dict[str, Any]]) -> str:
    """The Markdown tables of one or more evaluations (keys: pubmedqa, cuad, routing)."""
    out: list[str] = []
    if "pubmedqa" in results:
        r = results["pubmedqa"]
        out += [
            f"### PubMedQA: {r['questions']} questions (seeded sample, seed {r['seed']}), "
            f"retrieval over the pooled contexts",
            "",
            f"Majority-class baseline {_fmt(r['majority_baseline'])} (gold labels "
            f"{r['gold_distribution']}). Accuracy counts the model's own answer (its opening "
            "yes/no/maybe) before any abstention; selective accuracy counts only the answers the "
            "router let through.",
            "",
            "| tier | n | accuracy | 95% CI | parsed | abstained | selective acc. | "
            "mean agreement | s/question | s/question standalone | generated tok/q | "
            "prompt tok/q | prompt evaluated tok/q |",
            "| --- | ---: | ---: | --- |" + " ---: |" * 9,
        ]
        for tier, t in r["tiers"].items():
            out.append(
                f"| {tier} | {t['n']} | {_fmt(t['accuracy'])} | {_fmt(t['accuracy_ci95'])} | "
                f"{_fmt(t['parsed'])} | {_fmt(t['abstained'])} | {_fmt(t['selective_accuracy'])} | "
                f"{_fmt(t['mean_agreement'])} | {_fmt(t['seconds_per_q'])} | "
                f"{_fmt(t['seconds_standalone_per_q'])} | {_fmt(t['generated_per_q'])} | "
                f"{_fmt(t['prompt_tokens_per_q'])} | {_fmt(t['prompt_evaluated_per_q'])} |"
            )
        first = next(iter(r["tiers"].values()), None)
        if first:
            out += [
                "",
                f"Gold abstract retrieved among the sources: {_fmt(first['retrieval_recall'])}. "
                f"Routed domains: {first['routed']}. Labels given ({next(iter(r['tiers']))}): "
                f"{first['labels']}.",
            ]
        out.append("")
    if "cuad" in results:
        r = results["cuad"]
        ro, g = r["retrieval_only"], r["generation"]
        out += [
            f"### CUAD: {r['contracts']} contracts, {r['questions']} clause questions "
            f"({r['unanswerable']} unanswerable), k={r['k']}",
            "",
            "Retrieval-only decision on every question (no generation: abstain when no source "
            "is relevant or the retrieval support alone gives a confidence below the threshold):",
            "",
            "| | n | abstained | 95% CI | mean best similarity |",
            "| --- | ---: | ---: | --- | ---: |",
            f"| unanswerable | {ro['unanswerable']} | {_fmt(ro['abstained_on_unanswerable'])} | "
            f"{_fmt(ro['abstained_on_unanswerable_ci95'])} | "
            f"{_fmt(ro['mean_support_unanswerable'])} |",
            f"| answerable | {ro['answerable']} | {_fmt(ro['abstained_on_answerable'])} | | "
            f"{_fmt(ro['mean_support_answerable'])} |",
            "",
            f"A gold span is among the top-{r['k']} sources for {_fmt(ro['gold_span_in_top_k'])} "
            f"of answerable questions (95% CI {_fmt(ro['gold_span_in_top_k_ci95'])}).",
            "",
            f"With generation (seeded samples; tiers {g['tiers']}; routed {g['routed']}):",
            "",
            '| | n | said "not found" | 95% CI | notes |',
            "| --- | ---: | ---: | --- | --- |",
            f"| unanswerable | {g['unanswerable']} | {_fmt(g['said_not_found_on_unanswerable'])} | "
            f"{_fmt(g['said_not_found_on_unanswerable_ci95'])} | "
            f"{g['unanswerable_answered_with_a_citation']} answered with a citation |",
            f"| answerable | {g['answerable']} | {_fmt(g['said_not_found_on_answerable'])} | | "
            f"{g['router_abstentions']} router abstentions in all |",
            "",
            f"Citation precision on answerable questions (cited passage overlaps a gold span): "
            f"**{_fmt(g['citation_precision'])}** of {g['citations_on_answerable']} citations "
            f"(95% CI {_fmt(g['citation_precision_ci95'])}); verified verbatim quotes "
            f"{_fmt(g['verified_quotes'])}. Cost: {_fmt(g.get('seconds_per_q'))} s, "
            f"{_fmt(g.get('generated_per_q'))} generated and "
            f"{_fmt(g.get('prompt_evaluated_per_q'))} prompt tokens per question.",
            "",
        ]
    if "routing" in results:
        r = results["routing"]
        out += [
            f"### Routing: {r['questions']} labelled questions",
            "",
            f"Accuracy {_fmt(r['accuracy'])} (95% CI {_fmt(r['accuracy_ci95'])}); latency p50 "
            f"{_fmt(r['latency_ms_p50'])} ms, p95 {_fmt(r['latency_ms_p95'])} ms. Confusion: "
            f"{r['confusion']}.",
            "",
        ]
    return "\n".join(out)
