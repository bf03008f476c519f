"""How much of what redaction misses the review points at (issue 16, point 5: app.privacy.risk).

    .venv/bin/python bench/bench_review_risk.py [--out bench/results]

On the labelled sets (tests/data/redaction_eval.jsonl, and tests/data/safe_harbor_eval.jsonl
when present), each document is redacted in its own session; a gold identifier span is *missed*
when some letter or digit of it is still in the redacted text. A missed span is *marked* when a
risk mark (find_risks on the redacted text) overlaps what is left of it: the reviewer's eye is
sent there. Reported per split and per identifier type: missed spans, the share marked, and the
marks per 1,000 characters (the reading cost: every mark is a place to look), and find_risks'
speed. Numbers only; writes review_risk.json and review_risk.md.
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

from app.privacy.redaction import RedactedSpan, RedactionSession  # noqa: E402
from app.privacy.risk import find_risks  # noqa: E402

SETS = ["tests/data/redaction_eval.jsonl", "tests/data/safe_harbor_eval.jsonl"]


class _Unchecked(RedactionSession):
    """The last check (no original survives) would refuse some documents outright; here the
    redacted text is measured as it is."""

    def _verify(self, texts: Any) -> None:
        return None


def _to_redacted(spans: list[RedactedSpan], pos: int) -> int:
    shift = 0
    for s in spans:
        if s.original_end <= pos:
            shift += (s.end - s.start) - (s.original_end - s.original_start)
        elif s.original_start <= pos:
            return s.start
    return pos + shift


def _survives(spans: list[RedactedSpan], text: str, start: int, end: int) -> bool:
    covered = [False] * (end - start)
    for s in spans:
        for i in range(max(start, s.original_start), min(end, s.original_end)):
            covered[i - start] = True
    return any(not c and text[start + i].isalnum() for i, c in enumerate(covered))


def measure(docs: list[dict[str, Any]]) -> dict[str, Any]:
    by_split: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"spans": 0, "missed": 0, "marked": 0, "chars": 0, "marks": 0,
                 "types": defaultdict(lambda: [0, 0])}
    )  # fmt: skip
    risk_time = 0.0
    for doc in docs:
        text = doc["text"]
        result = _Unchecked().redact_all([text])[0]
        spans = sorted(result.spans, key=lambda s: s.original_start)
        t0 = time.perf_counter()
        risks = find_risks(result.text)
        risk_time += time.perf_counter() - t0
        row = by_split[doc.get("split", "all")]
        row["chars"] += len(result.text)
        row["marks"] += len(risks)
        for gold in doc["spans"]:
            row["spans"] += 1
            if not _survives(spans, text, gold["start"], gold["end"]):
                continue
            a, b = _to_redacted(spans, gold["start"]), _to_redacted(spans, gold["end"])
            marked = any(r.start < b and a < r.end for r in risks)
            row["missed"] += 1
            row["marked"] += marked
            kind = row["types"][gold["type"]]
            kind[0] += 1
            kind[1] += marked
    total_chars = sum(r["chars"] for r in by_split.values())
    out: dict[str, Any] = {"chars_per_s": int(total_chars / risk_time) if risk_time else None}
    for split, row in sorted(by_split.items()):
        out[split] = {
            "spans": row["spans"], "missed": row["missed"], "marked": row["marked"],
            "marked_share": round(row["marked"] / row["missed"], 3) if row["missed"] else None,
            "marks_per_1000_chars": round(1000 * row["marks"] / max(1, row["chars"]), 2),
            "types": {k: {"missed": v[0], "marked": v[1]} for k, v in sorted(row["types"].items())},
        }  # fmt: skip
    return out


def _markdown(report: dict[str, Any]) -> str:
    lines = ["# Review risk marks: what redaction missed, and how much of it the review marks", ""]
    for name, sets in report.items():
        lines += [
            f"## {name} (find_risks: {sets['chars_per_s']:,} chars/s)",
            "",
            "| split | gold spans | missed by redaction | marked for review "
            "| marks / 1,000 chars |",
            "|---|---|---|---|---|",
        ]
        for split, row in sets.items():
            if split == "chars_per_s":
                continue
            share = "n/a" if row["marked_share"] is None else f"{row['marked_share']:.0%}"
            lines.append(
                f"| {split} | {row['spans']} | {row['missed']} | {row['marked']} ({share}) | "
                f"{row['marks_per_1000_chars']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    for name in SETS:
        path = ROOT / name
        if not path.is_file():
            continue
        docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        report[Path(name).name] = measure(docs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "review_risk.json").write_text(json.dumps(report, indent=2))
    (args.out / "review_risk.md").write_text(_markdown(report))
    print(_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
