"""Answers a clinician or lawyer can rely on (issue 11), with the real SmolLM2 model through
llama.cpp, the real embedder and real chromadb on disk, through the real `enclave` command:
the documents' own words first, no unsupported fact shown, "not found" when they do not say,
and each document's answer when documents differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_helpers import enclave, json_lines

pytestmark = pytest.mark.slow

SERVICES = """MASTER SERVICES AGREEMENT

This Master Services Agreement (the "Agreement") is made on March 3, 2024 between Northwind
Analytics LLC ("Provider") and Harbor Health Partners, Inc. ("Client").

7. TERM AND TERMINATION

7.1 Termination for Breach. Either party may terminate this Agreement if the other party
materially breaches it and fails to cure the breach within ten (10) business days after
written notice of the breach.

7.2 Termination for Convenience. Either party may terminate this Agreement for convenience
upon sixty (60) days' written notice to the other party.

12. GOVERNING LAW. This Agreement shall be governed by the laws of the State of Delaware.
"""

SUPPLY = """SUPPLY AGREEMENT

This Supply Agreement is made on June 9, 2023 between Cobalt Components Ltd. ("Supplier")
and Meridian Devices Corp. ("Buyer").

4. DELIVERY. Supplier shall deliver the products within thirty (30) days of each order.

15. GOVERNING LAW. This Agreement shall be governed by the laws of the State of New York.
"""


LEASE = """EQUIPMENT LEASE

This Equipment Lease is made on May 2, 2022 between Granite Leasing Inc. ("Lessor") and
Meridian Devices Corp. ("Lessee").

9. GOVERNING LAW. This Lease shall be governed by the laws of the State of Texas.
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("answers-home")
    folder = tmp_path_factory.mktemp("matter")
    (folder / "services-agreement.txt").write_text(SERVICES, encoding="utf-8")
    (folder / "supply-agreement.txt").write_text(SUPPLY, encoding="utf-8")
    (folder / "equipment-lease.txt").write_text(LEASE, encoding="utf-8")
    enclave(home, "ingest", str(folder), "-w", "deals", "--create")
    return home


def _ask(home: Path, *args: str) -> dict[str, object]:
    (answer,) = json_lines(enclave(home, "ask", *args, "-w", "deals", "--json").stdout)
    return answer


def test_the_convenience_clause_is_the_evidence_and_10_days_is_never_supported(
    home: Path,
) -> None:
    answer = _ask(
        home,
        "How much notice is needed to terminate for convenience?",
        "--document",
        "services-agreement.txt",
    )
    evidence = answer["evidence"]
    assert isinstance(evidence, list) and evidence
    assert "sixty (60) days' written notice" in evidence[0]["quote"]
    first = evidence[0]
    assert first["document"] == "services-agreement.txt"
    assert first["line"] == SERVICES[: first["start"]].count("\n") + 1 == 12  # "7.2 ..." line
    text = str(answer["answer"])
    assert "10 days" not in text and "ten (10) business days" not in text
    assert all(c["supported"] for c in answer["citations"])  # type: ignore[index, union-attr]
    source = SERVICES
    for quote in evidence:
        assert source[quote["start"] : quote["end"]] == quote["quote"]  # verbatim, in place
    assert answer["route"]["confidence"] is not None  # type: ignore[index]


def test_a_question_the_documents_do_not_answer_is_not_found(home: Path) -> None:
    answer = _ask(home, "What is the client's date of birth?")
    assert answer["not_found"] is True and answer["answer"] == "Not found in your documents."
    assert answer["evidence"] == [] and answer["citations"] == []
    assert answer["route"]["confidence"] is None  # type: ignore[index]


def test_agreements_with_different_laws_get_each_answer(home: Path) -> None:
    answer = _ask(home, "Which state's law governs the agreement?")
    documents = {e["document"]: e["quote"] for e in answer["evidence"]}  # type: ignore[union-attr]
    assert set(documents) == {
        "services-agreement.txt",
        "supply-agreement.txt",
        "equipment-lease.txt",
    }
    assert "Delaware" in documents["services-agreement.txt"]
    assert "New York" in documents["supply-agreement.txt"]
    assert "Texas" in documents["equipment-lease.txt"]
    assert "differently" in str(answer["answer"])


def test_the_printed_answer_shows_every_documents_own_words(home: Path) -> None:
    """What a person reads in the terminal: all three laws, each under its document (the
    evidence block shown first is each document's quote, not the two best quotes)."""
    out = enclave(home, "ask", "Which state's law governs the agreement?", "-w", "deals").stdout
    assert out.startswith("From your documents:"), out
    for law, name in (("Delaware", "services"), ("New York", "supply"), ("Texas", "lease")):
        quote = next(line for line in out.splitlines() if law in line)
        below = out.splitlines()[out.splitlines().index(quote) + 1]
        assert name in below, out
    assert "3 documents give different answers" in out, out


def test_a_checklist_of_questions_over_every_document(home: Path, tmp_path: Path) -> None:
    questions = tmp_path / "checklist.txt"
    questions.write_text(
        "# due diligence\nWhich state's law governs the agreement?\n"
        "What is the client's date of birth?\n",
        encoding="utf-8",
    )
    proc = enclave(
        home, "ask", "-w", "deals", "--questions", str(questions), "--per-document", "--json"
    )
    rows = json_lines(proc.stdout)
    assert [(r["question"][:5], r["document"]) for r in rows] == [
        ("Which", "equipment-lease.txt"),
        ("What ", "equipment-lease.txt"),
        ("Which", "services-agreement.txt"),
        ("What ", "services-agreement.txt"),
        ("Which", "supply-agreement.txt"),
        ("What ", "supply-agreement.txt"),
    ]  # documents in name order
    laws = [r for r in rows if r["question"].startswith("Which")]
    assert "Texas" in laws[0]["evidence"][0]["quote"]
    assert "Delaware" in laws[1]["evidence"][0]["quote"]
    assert "New York" in laws[2]["evidence"][0]["quote"]
    assert all(r["not_found"] for r in rows if r["question"].startswith("What"))
    table = tmp_path / "review.csv"
    enclave(
        home, "ask", "-w", "deals", "--questions", str(questions), "--per-document",
        "--format", "csv", "-o", str(table),
    )  # fmt: skip
    text = table.read_text(encoding="utf-8")
    assert text.startswith("# Machine-made by Enclave") and "Delaware" in text
    assert text.count("\n") == 2 + 6  # the note, the header and one row per answer
