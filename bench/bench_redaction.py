"""Measure redaction recall and precision per identifier type on the labelled synthetic set.

    .venv/bin/python bench/bench_redaction.py [--data tests/data/redaction_eval.jsonl]
                                              [--safe-harbor tests/data/safe_harbor_eval.jsonl]
                                              [--out bench/results] [--show-misses SPLIT]

Each document is redacted in its own session (as one outgoing request would be). A gold span is
*recalled* when every letter and digit of it lies inside some redacted span (any type: what
matters for privacy is that it did not leave); *typed recall* also asks for the right type.
A predicted span is *correct* (precision) when it overlaps a gold span. Results are reported for
the `dev` split (the rules were written looking at it) and four held-out splits written one after
another: each was measured once on first contact (recorded in FIRST_CONTACT: the honest estimate)
and only then used to find general fixes.

The Safe Harbor set (issue 16) is reported per HIPAA Safe Harbor kind (recall of any type, typed
recall), overall recall, precision and chars/s, for its `dev` split (rules written against it) and
its `heldout` split (templates and name/place pools the rules were not written against; its first
measurement is kept in SAFE_HARBOR_FIRST_CONTACT). Speed is measured after one warm-up pass (the
word lists load once per process; their load time is reported apart). Writes redaction.md and
redaction.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.privacy.identifiers import KINDS  # noqa: E402
from app.privacy.redaction import RedactionError, RedactionSession  # noqa: E402


class _MeasuredSession(RedactionSession):
    """A session whose final survive-check failure is counted instead of raised, so the
    detections of a request that would have been blocked are still measured."""

    blocked = 0

    def _verify(self, texts: Any) -> None:
        try:
            super()._verify(texts)
        except RedactionError:
            _MeasuredSession.blocked += 1


QUASI = {"DATE"}  # everything else is a direct identifier
TARGET = 0.95
# The first measurement of each held-out split, taken when it was written and before any rule was
# changed because of it (copied from that run's output; the only numbers here not computed live).
# They are the honest estimate of recall on text the rules have not seen.
FIRST_CONTACT = {
    "heldout": {
        "direct_recall": 0.9603,
        "person_recall": 0.9524,
        "precision": 0.9647,
        "spans": 168,
    },
    "heldout2": {
        "direct_recall": 0.7941,
        "person_recall": 0.8000,
        "precision": 0.9740,
        "spans": 91,
    },
    "heldout3": {
        "direct_recall": 0.8507,
        "person_recall": 0.8462,
        "precision": 0.9079,
        "spans": 79,
    },
    "heldout4": {
        "direct_recall": 0.8431,
        "person_recall": 0.8148,
        "precision": 0.9833,
        "spans": 68,
    },
}
SPLITS = ("heldout4", "heldout3", "heldout2", "heldout", "dev", "all")
SAFE_HARBOR_SPLITS = ("heldout3", "heldout2", "heldout", "dev", "all")
SAFE_HARBOR_TARGETS = {
    "recall": 0.95,
    "person_recall": 0.95,
    "precision": 0.90,
    "chars_per_second": 100_000,
}
# Safe Harbor set, held-out splits: the first measurement of each with the issue-16 rules, before
# any rule was changed because of that split (copied from that run's output). heldout2 was
# written after the rules had been fixed on dev and heldout, heldout3 after heldout2.
SAFE_HARBOR_FIRST_CONTACT: dict[str, Any] = {
    "heldout": {"recall": 0.9334, "person_recall": 0.8433, "precision": 0.9675, "spans": 721},
    "heldout2": {"recall": 0.9137, "person_recall": 0.7717, "precision": 0.9961, "spans": 568},
    "heldout3": {"recall": 0.9477, "person_recall": 0.8889, "precision": 0.9817, "spans": 440},
}


def _covered(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    for i in range(start, end):
        if text[i].isalnum() and not any(s <= i < e for s, e in spans):
            return False
    return True


def evaluate(docs: list[dict[str, Any]]) -> dict[str, Any]:
    gold_n: dict[str, int] = defaultdict(int)
    hit_any: dict[str, int] = defaultdict(int)
    hit_typed: dict[str, int] = defaultdict(int)
    pred_n: dict[str, int] = defaultdict(int)
    pred_ok: dict[str, int] = defaultdict(int)
    misses: list[dict[str, str]] = []
    false_pos: list[dict[str, str]] = []
    chars = 0
    _MeasuredSession.blocked = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for doc in docs:
        text = doc["text"]
        chars += len(text)
        session = _MeasuredSession()
        result = session.redact_all([text])[0]
        predicted = [(s.original_start, s.original_end, s.kind) for s in result.spans]
        any_spans = [(s, e) for s, e, _ in predicted]
        for g in doc["spans"]:
            kind = g["type"]
            gold_n[kind] += 1
            if _covered(text, g["start"], g["end"], any_spans):
                hit_any[kind] += 1
            else:
                misses.append({"doc": doc["id"], "type": kind, "text": g["text"]})
            same = [(s, e) for s, e, k in predicted if k == kind]
            if _covered(text, g["start"], g["end"], same):
                hit_typed[kind] += 1
        for s, e, kind in predicted:
            pred_n[kind] += 1
            if any(s < g["end"] and g["start"] < e for g in doc["spans"]):
                pred_ok[kind] += 1
            else:
                false_pos.append({"doc": doc["id"], "type": kind, "text": text[s:e]})
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    per_type = {}
    for kind in [*KINDS, *sorted(set(gold_n) - set(KINDS))]:
        per_type[kind] = {
            "gold": gold_n[kind],
            "recall": ratio(hit_any[kind], gold_n[kind]),
            "typed_recall": ratio(hit_typed[kind], gold_n[kind]),
            "predicted": pred_n[kind],
            "precision": ratio(pred_ok[kind], pred_n[kind]),
        }
    direct = [k for k in per_type if k not in QUASI]
    totals = {
        "direct_recall": ratio(sum(hit_any[k] for k in direct), sum(gold_n[k] for k in direct)),
        "all_recall": ratio(sum(hit_any.values()), sum(gold_n.values())),
        "all_precision": ratio(sum(pred_ok.values()), sum(pred_n.values())),
        "gold_spans": sum(gold_n.values()),
        "documents": len(docs),
        # CPU time of this process: the machine is shared, so wall time measures the others too
        "chars_per_second": round(chars / cpu) if cpu else None,
        "chars_per_second_wall": round(chars / elapsed) if elapsed else None,
        "characters": chars,
        "blocked_by_survive_check": _MeasuredSession.blocked,
    }
    return {"per_type": per_type, "totals": totals, "misses": misses, "false_positives": false_pos}


def _table(name: str, res: dict[str, Any]) -> list[str]:
    t = res["totals"]
    lines = [
        f"### {name}: {t['documents']} documents, {t['gold_spans']} labelled spans",
        "",
        f"Direct identifiers recall **{t['direct_recall']}** (target {TARGET}); all types "
        f"recall {t['all_recall']}, precision {t['all_precision']}.",
        "",
        "| type | gold | recall | typed recall | predicted | precision |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, row in res["per_type"].items():
        if not row["gold"] and not row["predicted"]:
            continue
        flag = "" if kind in QUASI or (row["recall"] or 0) >= TARGET or not row["gold"] else " ⚠"
        lines.append(
            f"| {kind}{flag} | {row['gold']} | {row['recall']} | {row['typed_recall']} | "
            f"{row['predicted']} | {row['precision']} |"
        )
    return [*lines, ""]


def _safe_harbor_table(name: str, res: dict[str, Any]) -> list[str]:
    t = res["totals"]
    lines = [
        f"### Safe Harbor set, {name}: {t['documents']} documents, "
        f"{t['gold_spans']} labelled spans",
        "",
        f"Recall **{t['all_recall']}** (target {SAFE_HARBOR_TARGETS['recall']}), names "
        f"**{res['per_type']['PERSON']['recall']}**, precision **{t['all_precision']}** (target "
        f"{SAFE_HARBOR_TARGETS['precision']}), {t['chars_per_second']:,} chars/s (target "
        f"{SAFE_HARBOR_TARGETS['chars_per_second']:,}).",
        "",
        "| kind | gold | recall | typed recall |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind, row in res["per_type"].items():
        if not row["gold"]:
            continue
        flag = "" if (row["recall"] or 0) >= SAFE_HARBOR_TARGETS["recall"] else " ⚠"
        lines.append(f"| {kind}{flag} | {row['gold']} | {row['recall']} | {row['typed_recall']} |")
    predicted = {k: r["predicted"] for k, r in res["per_type"].items() if r["predicted"]}
    lines += ["", "Predicted spans per placeholder kind: "
              + ", ".join(f"{k} {n}" for k, n in predicted.items()), ""]  # fmt: skip
    return lines


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _raw_re_chars_per_second(docs: list[dict[str, Any]]) -> int:
    """The raw library on the same input: one `re` pass of a plain e-mail pattern (CPU time)."""
    pattern = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
    texts = [d["text"] for d in docs]
    started = time.process_time()
    for _ in range(20):
        for text in texts:
            pattern.findall(text)
    return round(20 * sum(map(len, texts)) / (time.process_time() - started))


def _throughput(docs: list[dict[str, Any]], rounds: int = 3) -> dict[str, int]:
    """chars/s of the whole redaction (detect, spread, placeholders, survive check), one session
    per document: the best of `rounds` passes, CPU time and wall time (the machine is shared)."""
    texts = [d["text"] for d in docs]
    chars = sum(map(len, texts))
    best_cpu = best_wall = float("inf")
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        for text in texts:
            _MeasuredSession().redact_all([text])
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return {"cpu": round(chars / best_cpu), "wall": round(chars / best_wall)}


def _warm_up() -> float:
    started = time.perf_counter()
    RedactionSession().redact_all(["Patient: Rosa Delgado, seen in Leeds on 3 May 2024."])
    return round(time.perf_counter() - started, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "tests/data/redaction_eval.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results")
    parser.add_argument(
        "--safe-harbor", type=Path, default=ROOT / "tests/data/safe_harbor_eval.jsonl"
    )
    parser.add_argument("--show-misses", metavar="SPLIT", help="print the misses of one split")
    args = parser.parse_args()
    load_seconds = _warm_up()
    sh_docs = _load(args.safe_harbor)
    safe_harbor = {
        split: evaluate([d for d in sh_docs if split == "all" or d["split"] == split])
        for split in SAFE_HARBOR_SPLITS
    }
    speed = _throughput(sh_docs)
    safe_harbor["all"]["totals"]["chars_per_second"] = speed["cpu"]
    safe_harbor["all"]["totals"]["chars_per_second_wall"] = speed["wall"]
    docs = _load(args.data)
    report = {
        split: evaluate([d for d in docs if split == "all" or d["split"] == split])
        for split in SPLITS
    }
    md = [
        "# Redaction: recall and precision per identifier type",
        "",
        f"Data: `{args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data}` "
        "(synthetic clinical notes and legal letters, hand-labelled). Produced by "
        "`bench/bench_redaction.py`. Recall: every letter/digit of the labelled span was replaced "
        "(any type). Typed recall: by a placeholder of the right type. Precision: the replaced "
        "span overlaps a labelled identifier. `dev`: the rules were written looking at it. "
        "`heldout`, `heldout2`, `heldout3`, `heldout4`: written one after another, each measured "
        "once on first contact (below) and only then used to find general fixes. "
        "⚠ marks a direct identifier below the target.",
        "",
    ]
    md += [
        "## First contact: recall on text the rules had never seen",
        "",
        "Each held-out split was measured once, as soon as it was written, before any rule was "
        "changed because of it. Later rule changes used its misses, so the tables further down "
        "overstate recall on new text. These first-contact figures are the honest estimate.",
        "",
        "| split | labelled spans | direct-identifier recall | PERSON recall | precision |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {name} | {row['spans']} | {row['direct_recall']} | {row['person_recall']} | "
            f"{row['precision']} |"
            for name, row in FIRST_CONTACT.items()
        ),
        "",
        "## Current rules on every split",
        "",
    ]
    for split in SPLITS:
        md += _table(split, report[split])
    sh_all = safe_harbor["all"]
    sh_met = {
        "recall": (sh_all["totals"]["all_recall"] or 0) >= SAFE_HARBOR_TARGETS["recall"],
        "person_recall": (sh_all["per_type"]["PERSON"]["recall"] or 0)
        >= SAFE_HARBOR_TARGETS["person_recall"],
        "every_kind": all(
            (r["recall"] or 0) >= SAFE_HARBOR_TARGETS["recall"]
            for r in sh_all["per_type"].values()
            if r["gold"]
        ),
        "precision": (sh_all["totals"]["all_precision"] or 0) >= SAFE_HARBOR_TARGETS["precision"],
        "chars_per_second": (sh_all["totals"]["chars_per_second"] or 0)
        >= SAFE_HARBOR_TARGETS["chars_per_second"],
    }
    raw_re = _raw_re_chars_per_second(sh_docs)
    load = os.getloadavg()[0]
    md += [
        "## HIPAA Safe Harbor kinds (tests/data/safe_harbor_eval.jsonl)",
        "",
        f"Word lists and gazetteers load once per process: {load_seconds} s (not in chars/s). "
        f"chars/s is CPU time of this process (load average {load:.1f} during the run; wall-clock "
        f"figures are in redaction.json); for `all` it is the best of 3 passes over the whole set, "
        f"for the splits one pass. Raw `re`, one e-mail pattern over the same text: "
        f"{raw_re:,} chars/s; the whole redaction runs at "
        f"1/{raw_re / max(1, sh_all['totals']['chars_per_second'] or 1):.0f} of that.",
        "",
    ]
    md += [
        "First contact with each held-out split (measured once, before any rule was changed "
        "because of it; the honest estimate on unseen text):",
        "",
        "| split | labelled spans | recall | names | precision |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {name} | {row['spans']} | {row['recall']} | {row['person_recall']} | "
            f"{row['precision']} |"
            for name, row in SAFE_HARBOR_FIRST_CONTACT.items()
        ),
        "",
    ]
    for split in SAFE_HARBOR_SPLITS:
        md += _safe_harbor_table(split, safe_harbor[split])
    md += ["Targets met (all splits together): "
           + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in sh_met.items()), ""]  # fmt: skip
    worst = min(row["person_recall"] for row in SAFE_HARBOR_FIRST_CONTACT.values())
    md += [
        f"On first contact with unseen text, name recall was as low as {worst} (the held-out "
        "splits above); the figures after that first contact overstate recall on new text. "
        "Per-request review of the outgoing text therefore stays mandatory.",
        "",
    ]
    met = all(row["direct_recall"] >= TARGET for row in FIRST_CONTACT.values())
    md.append(
        "Target met on first contact with held-out text."
        if met
        else "**Target not met on unseen text** (first-contact direct-identifier recall "
        "about 0.8-0.85 "
        "on the later held-out splits; names without a cue are the main miss). Per-request "
        "review of the outgoing text therefore stays mandatory: the frontier route always shows "
        "the exact outgoing text, redactions marked, and sends nothing without consent."
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "redaction.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    slim: dict[str, Any] = {
        k: {"per_type": v["per_type"], "totals": v["totals"]} for k, v in report.items()
    }
    slim["first_contact"] = FIRST_CONTACT
    slim["target"] = TARGET
    slim["target_met"] = met
    slim["safe_harbor"] = {
        **{k: {"per_type": {kind: row for kind, row in v["per_type"].items() if row["gold"] or
                            row["predicted"]}, "totals": v["totals"]}
           for k, v in safe_harbor.items()},
        "targets": SAFE_HARBOR_TARGETS,
        "targets_met": sh_met,
        "first_contact_heldout": SAFE_HARBOR_FIRST_CONTACT,
        "word_list_load_seconds": load_seconds,
        "raw_re_one_pattern_chars_per_second": raw_re,
        "load_average": round(load, 2),
    }  # fmt: skip
    (args.out / "redaction.json").write_text(json.dumps(slim, indent=2) + "\n", encoding="utf-8")
    print("\n".join(md))
    if args.show_misses:
        split = args.show_misses
        for label, res in (("safe harbor", safe_harbor.get(split)), ("legacy", report.get(split))):
            if res is None:
                continue
            print(f"\n## {label} {split} misses")
            for miss in res["misses"]:
                print(f"  {miss['doc']:<14} {miss['type']:<12} {miss['text']!r}")
            print(f"\n## {label} {split} false positives")
            for fp in res["false_positives"]:
                print(f"  {fp['doc']:<14} {fp['type']:<12} {fp['text']!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
