"""Minimum necessary on the frontier route (issue 16, point 3): what a request carries, and what
choosing it costs, against the route as it was (the `k` most similar passages, any document).

    .venv/bin/python bench/bench_frontier_minimum.py [--patients 30] [--out bench/results]

A workspace of synthetic clinical notes, one patient each (name, MRN, date of birth, address,
phone), many on the same drugs so that a question about one patient finds the others' notes;
plus two long real contracts from shared/eval (when present) that the search also reaches.
For questions naming one patient (by name, or by MRN) and questions naming no one it reports:
passages sent, passages sent from another patient's note, and the time of `prepare` (retrieve,
choose, redact: nothing is sent; the policy points at a closed loopback port) for
- raw: ChatService.relevant_sources(k) + FrontierGateway.prepare (the route before issue 16);
- minimum: FrontierRoute.prepare (app.frontier.minimum: evidence, documents read whole).
The ratio minimum/raw is the price of reading documents and scoring evidence. Numbers only;
writes frontier_minimum.json and frontier_minimum.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = "Maria Will Hope Ana Carlos Priya Kwame Li Sofia Omar Grace Ivan Yuki Amara Luca".split()
LAST = "Lopez Treharne Castillo Ruiz Vega Patel Mensah Chen Rossi Haddad Okafor Petrov Sato".split()
DRUGS = [("metformin", "500 mg twice daily"), ("lisinopril", "10 mg once daily"),
         ("metformin", "1000 mg once daily"), ("atorvastatin", "40 mg at night"),
         ("furosemide", "40 mg each morning"), ("lisinopril", "20 mg once daily")]  # fmt: skip
CONTRACTS = [
    "LIMEENERGYCO_09_09_1999-EX-10-DISTRIBUTOR AGREEMENT.txt",
    "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.txt",
]


def patient(n: int) -> dict[str, str]:
    first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
    drug, dose = DRUGS[n % len(DRUGS)]
    return {
        "name": f"{first} {last}", "mrn": f"{40_000_000 + n * 7919:08d}", "drug": drug,
        "dose": dose, "file": f"note_{n:03d}_{last.lower()}.txt",
        "text": (
            f"CLINIC NOTE\nPatient: {first} {last}   MRN: {40_000_000 + n * 7919:08d}   "
            f"DOB: {1 + n % 12:02d}/{1 + n % 27:02d}/19{40 + n % 50}\n"
            f"Address: {10 + n} Elm Street, Springfield, IL 627{n % 100:02d}. "
            f"Phone: (217) 555-{1000 + n:04d}.\n\n"
            f"{first} {last} attends for review. Blood pressure 132/84.\n"
            f"{first} takes {drug} {dose} and tolerates it well.\n"
            f"Plan: continue {drug} {dose}; review in three months.\n"
        ),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-frontier-"))
    os.environ["ENCLAVE_HOME"] = str(home / "home")
    policy = home / "policy.json"
    policy.write_text(json.dumps({"version": 1, "frontier": {
        "enabled": True, "workspaces": ["clinic"], "max_chunks": 4,
        "endpoints": [{"id": "gw", "base_url": "http://127.0.0.1:9/v1", "model": "m",
                       "requires_key": False}]}}))  # fmt: skip
    os.environ["ENCLAVE_POLICY"] = str(policy)
    from app.bootstrap import secure_process

    secure_process()
    from app.container import Enclave
    from app.library.ingest import ingest_paths

    people = [patient(n) for n in range(args.patients)]
    folder = home / "docs"
    folder.mkdir()
    for p in people:
        (folder / p["file"]).write_text(p["text"], encoding="utf-8")
    eval_contracts = ROOT.parent / "shared" / "eval" / "cuad" / "contracts"
    contracts = [c for c in CONTRACTS if (eval_contracts / c).is_file()]
    for name in contracts:
        (folder / name).write_bytes((eval_contracts / name).read_bytes())
    enclave = Enclave()
    ws = enclave.workspaces.create("clinic")
    started = time.perf_counter()
    list(ingest_paths(enclave.index(ws), [folder], limits=enclave.parse_limits))
    ingest_s = time.perf_counter() - started
    gateway = enclave.frontier._frontier()  # the same gateway the route uses
    k = enclave.settings.top_k_sources
    file_of = {p["file"]: p for p in people}

    questions: list[tuple[str, str, dict[str, str] | None]] = []
    for p in people[:: max(1, len(people) // 8)][:8]:
        questions.append(("by name", f"What dose of {p['drug']} is {p['name']} taking?", p))
        questions.append(("by MRN", f"What dose of {p['drug']} is MRN {p['mrn']} on?", p))
    questions += [
        ("no one", f"What dose of {d} is the patient taking?", None) for d, _ in DRUGS[:4]
    ]
    enclave.frontier.prepare(ws, questions[0][1])  # warm: models loaded, caches filled
    rows: list[dict[str, Any]] = []
    for kind, question, who in questions:
        t0 = time.perf_counter()
        raw_sources = enclave.chat.relevant_sources(ws, question, k)
        raw = gateway.prepare(question, raw_sources, ws.id)
        t1 = time.perf_counter()
        prepared = enclave.frontier.prepare(ws, question)
        t2 = time.perf_counter()
        rows.append({
            "kind": kind, "question": question,
            "raw_s": t1 - t0, "minimum_s": t2 - t1,
            "raw_sent": raw.chunks_sent,
            "raw_other_patients": _others(raw_sources[: raw.chunks_sent], who, file_of),
            "minimum_sent": prepared.request.chunks_sent,
            "minimum_other_patients": _others(prepared.sources, who, file_of),
            "minimum_answer_sent": _answer_sent(prepared.sources, who),
            "left_out": len(prepared.request.left_out),
        })  # fmt: skip
    enclave.close()
    report = _summary(rows, args.patients, len(contracts), ingest_s)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "frontier_minimum.json").write_text(json.dumps({**report, "rows": rows}, indent=2))
    (args.out / "frontier_minimum.md").write_text(_markdown(report))
    print(_markdown(report))
    return 0


def _others(sources: list[Any], who: dict[str, str] | None, file_of: dict[str, Any]) -> int:
    """Passages sent from a patient's note other than the one asked about (for a question that
    names no one: from more than one patient's notes, counted beyond the first patient)."""
    patients = [h.document_name for h in sources if h.document_name in file_of]
    if who is None:
        first = patients[0] if patients else None
        return sum(1 for name in patients if name != first)
    return sum(1 for name in patients if name != who["file"])


def _answer_sent(sources: list[Any], who: dict[str, str] | None) -> bool | None:
    if who is None:
        return None
    return any(h.document_name == who["file"] and who["dose"] in h.chunk.text for h in sources)


def _summary(
    rows: list[dict[str, Any]], patients: int, contracts: int, ingest_s: float
) -> dict[str, Any]:
    out: dict[str, Any] = {"patients": patients, "contracts": contracts, "ingest_s": ingest_s}
    for kind in ("by name", "by MRN", "no one"):
        group = [r for r in rows if r["kind"] == kind]
        raw = statistics.median(r["raw_s"] for r in group)
        minimum = statistics.median(r["minimum_s"] for r in group)
        answered = [r["minimum_answer_sent"] for r in group if r["minimum_answer_sent"] is not None]
        out[kind] = {
            "questions": len(group),
            "raw_median_s": round(raw, 3), "minimum_median_s": round(minimum, 3),
            "ratio": round(minimum / raw, 2) if raw else None,
            "raw_passages": sum(r["raw_sent"] for r in group),
            "raw_other_patients": sum(r["raw_other_patients"] for r in group),
            "minimum_passages": sum(r["minimum_sent"] for r in group),
            "minimum_other_patients": sum(r["minimum_other_patients"] for r in group),
            "answer_passage_sent": f"{sum(answered)}/{len(answered)}" if answered else "n/a",
        }  # fmt: skip
    return out


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Frontier minimum necessary ({report['patients']} patients' notes, "
        f"{report['contracts']} contracts)",
        "",
        "| question | n | passages sent raw → minimum | other patients' passages raw → minimum "
        "| answer's passage sent | prepare median raw → minimum (ratio) |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("by name", "by MRN", "no one"):
        g = report[kind]
        lines.append(
            f"| {kind} | {g['questions']} | {g['raw_passages']} → {g['minimum_passages']} | "
            f"{g['raw_other_patients']} → {g['minimum_other_patients']} | "
            f"{g['answer_passage_sent']} | {g['raw_median_s']:.3f} s → "
            f"{g['minimum_median_s']:.3f} s ({g['ratio']}x) |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
