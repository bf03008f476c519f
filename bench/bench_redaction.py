"""Measure redaction recall and precision per identifier type on the labelled synthetic set.

    .venv/bin/python bench/bench_redaction.py [--data tests/data/redaction_eval.jsonl]
                                              [--out bench/results] [--show-misses]

Each document is redacted in its own session (as one outgoing request would be). A gold span is
*recalled* when every letter and digit of it lies inside some redacted span (any type: what
matters for privacy is that it did not leave); *typed recall* also asks for the right type.
A predicted span is *correct* (precision) when it overlaps a gold span. Results are reported for
the `dev` split (the rules were written looking at it) and four held-out splits written one after
another: each was measured once on first contact (recorded in FIRST_CONTACT: the honest estimate)
and only then used to find general fixes. Writes redaction.md and redaction.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.privacy.identifiers import KINDS  # noqa: E402
from app.privacy.redaction import RedactionSession  # noqa: E402

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
    started = time.perf_counter()
    for doc in docs:
        text = doc["text"]
        chars += len(text)
        session = RedactionSession()
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

    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    per_type = {}
    for kind in KINDS:
        per_type[kind] = {
            "gold": gold_n[kind],
            "recall": ratio(hit_any[kind], gold_n[kind]),
            "typed_recall": ratio(hit_typed[kind], gold_n[kind]),
            "predicted": pred_n[kind],
            "precision": ratio(pred_ok[kind], pred_n[kind]),
        }
    direct = [k for k in KINDS if k not in QUASI]
    totals = {
        "direct_recall": ratio(sum(hit_any[k] for k in direct), sum(gold_n[k] for k in direct)),
        "all_recall": ratio(sum(hit_any.values()), sum(gold_n.values())),
        "all_precision": ratio(sum(pred_ok.values()), sum(pred_n.values())),
        "gold_spans": sum(gold_n.values()),
        "documents": len(docs),
        "chars_per_second": round(chars / elapsed) if elapsed else None,
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "tests/data/redaction_eval.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    docs = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line]
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
    (args.out / "redaction.json").write_text(json.dumps(slim, indent=2) + "\n", encoding="utf-8")
    print("\n".join(md))
    if args.show_misses:
        for split in SPLITS[:-1]:
            print(f"\n## {split} misses")
            for miss in report[split]["misses"]:
                print(f"  {miss['doc']:<14} {miss['type']:<12} {miss['text']!r}")
            print(f"\n## {split} false positives")
            for fp in report[split]["false_positives"]:
                print(f"  {fp['doc']:<14} {fp['type']:<12} {fp['text']!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
