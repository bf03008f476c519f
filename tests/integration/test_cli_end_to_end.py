"""The CLI contract, end to end, with the real model, real chromadb on disk and the real embedder.

One workspace is built once (module scope) from a real CUAD contract (.txt) and a real contract
PDF; every test then drives the real `enclave` entry point in a child process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_helpers import enclave, json_lines

pytestmark = pytest.mark.slow

CONTRACT_TXT = "LIMEENERGYCO_09_09_1999-EX-10-DISTRIBUTOR AGREEMENT.txt"
CONTRACT_PDF = "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.pdf"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, eval_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("cli-home")
    matter = tmp_path_factory.mktemp("matter")
    (matter / CONTRACT_TXT).write_bytes(
        (eval_dir / "cuad" / "contracts" / CONTRACT_TXT).read_bytes()
    )
    (matter / CONTRACT_PDF).write_bytes(
        (eval_dir / "docs" / "pdf" / "legal" / CONTRACT_PDF).read_bytes()
    )
    (matter / "notes.xyz").write_text("not a supported type")
    enclave(home, "workspaces", "create", "ACME")
    # notes.xyz gets its own outcome line, rejected, so the run exits 1 (issue 12: every entry
    # found in a folder has an outcome; before, unsupported files there were passed over).
    proc = enclave(home, "ingest", str(matter), "--workspace", "acme", "--json", check=False)
    outcomes = {Path(r["path"]).name: r for r in json_lines(proc.stdout)}
    assert proc.returncode == 1, proc.stderr
    assert outcomes["notes.xyz"]["outcome"] == "rejected", outcomes
    assert "Unsupported file type .xyz" in outcomes["notes.xyz"]["reason"]
    assert outcomes[CONTRACT_TXT]["outcome"] == "indexed", outcomes
    assert outcomes[CONTRACT_PDF]["outcome"] == "indexed", outcomes
    assert outcomes[CONTRACT_TXT]["chunks"] > 10
    return home


def test_reingest_unchanged_does_nothing(home: Path, eval_dir: Path, tmp_path: Path) -> None:
    docs = json_lines(enclave(home, "documents", "list", "--workspace", "acme", "--json").stdout)
    txt = next(d for d in docs if d["name"] == CONTRACT_TXT)
    proc = enclave(home, "ingest", txt["path"], "--workspace", "acme", "--json")
    assert json_lines(proc.stdout)[0]["outcome"] == "unchanged"


def test_search_json_contract(home: Path, eval_dir: Path) -> None:
    proc = enclave(
        home,
        "search",
        "governing law of this agreement",
        "--workspace",
        "acme",
        "--k",
        "5",
        "--json",
    )
    hits = json_lines(proc.stdout)
    assert 1 <= len(hits) <= 5
    for hit in hits:
        assert set(hit) == {"document", "path", "page", "start", "end", "text", "score"}
    # Offsets point into the document's extracted text: for a .txt file, the decoded file.
    txt_hits = [h for h in hits if h["document"] == CONTRACT_TXT]
    assert txt_hits, hits
    source = (eval_dir / "cuad" / "contracts" / CONTRACT_TXT).read_text(encoding="utf-8")
    for h in txt_hits:
        assert source[h["start"] : h["end"]] == h["text"]
    flat = [" ".join(h["text"].lower().split()) for h in hits]
    assert any("laws of the state of illinois" in text for text in flat)


def test_search_many_queries_share_one_load(home: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.txt"
    queries.write_text("termination for convenience\n\nexclusivity\nconsulting fees\n")
    lines = json_lines(
        enclave(home, "search", "--queries", str(queries), "--workspace", "acme", "--k", "3").stdout
    )
    assert [line["query"] for line in lines] == [
        "termination for convenience",
        "exclusivity",
        "consulting fees",
    ]
    assert all(1 <= len(line["hits"]) <= 3 for line in lines)


def test_ask_json_contract_and_verified_quotes(home: Path, eval_dir: Path) -> None:
    proc = enclave(
        home,
        "ask",
        "Which state's law governs the distributor agreement?",
        "--workspace",
        "acme",
        "--json",
    )
    (result,) = json_lines(proc.stdout)
    assert {"answer", "citations", "route"} <= set(result)
    assert result["answer"].strip()
    assert result["route"]["model_id"] == "smollm2-135m-instruct"
    source = (eval_dir / "cuad" / "contracts" / CONTRACT_TXT).read_text(encoding="utf-8")
    for cite in result["citations"]:
        assert set(cite) == {"n", "document", "path", "page", "quote", "start", "end", "supported"}
        if cite["quote"] and cite["document"] == CONTRACT_TXT:
            assert source[cite["start"] : cite["end"]] == cite["quote"]
    assert result["evidence"], "the governing-law clause is evidence"
    for ev in result["evidence"]:
        assert set(ev) == {"n", "document", "path", "page", "line", "quote", "start", "end"}
        assert source[ev["start"] : ev["end"]] == ev["quote"]  # verbatim, at its offsets
    assert any("Illinois" in ev["quote"] for ev in result["evidence"])


def test_ask_streams_then_prints_citations(home: Path) -> None:
    proc = enclave(home, "ask", "What are the distributor's obligations?", "--workspace", "acme")
    assert proc.stdout.strip()


def test_irrelevant_question_is_not_found(home: Path) -> None:
    proc = enclave(
        home,
        "ask",
        "What is the recommended dose of amoxicillin for otitis media?",
        "--workspace",
        "acme",
        "--json",
    )
    (result,) = json_lines(proc.stdout)
    assert result["not_found"] is True and result["citations"] == []
    assert "not found in your documents" in result["answer"].lower()


def test_workspaces_are_isolated(home: Path) -> None:
    enclave(home, "workspaces", "create", "Patient 7")
    hits = json_lines(
        enclave(home, "search", "governing law", "--workspace", "patient-7", "--json").stdout
    )
    assert hits == []


def test_errors_go_to_stderr_with_nonzero_exit(home: Path) -> None:
    proc = enclave(home, "ask", "hello", "--workspace", "no-such-matter", check=False)
    assert proc.returncode != 0 and "no workspace called" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr
    proc = enclave(home, "models", "import", "/nonexistent/model.gguf", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_models_list_verify_and_doctor(home: Path) -> None:
    assert "smollm2-135m-instruct" in enclave(home, "models", "list").stdout
    assert "ok" in enclave(home, "models", "verify").stdout
    report = enclave(home, "doctor", "--json").stdout
    assert '"egress_guard": true' in report and '"backend"' in report


def test_document_remove(home: Path) -> None:
    enclave(home, "documents", "remove", CONTRACT_PDF, "--workspace", "acme")
    names = [
        d["name"]
        for d in json_lines(
            enclave(home, "documents", "list", "--workspace", "acme", "--json").stdout
        )
    ]
    assert CONTRACT_PDF not in names and CONTRACT_TXT in names


def test_show_request_alone_prints_the_redacted_request_and_sends_nothing(
    home: Path, tmp_path: Path
) -> None:
    import json

    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "frontier": {
        "enabled": True, "workspaces": ["acme"],
        "endpoints": [{"id": "gw", "base_url": "http://127.0.0.1:9/v1", "model": "m"}],
    }}))  # fmt: skip
    question = "Does Mr. Daniel Whitcombe (MRN 00482913) distribute the products in Texas?"
    proc = enclave(home, "ask", question, "-w", "acme", "--show-request",
                   prefix=["env", f"ENCLAVE_POLICY={policy}"])  # fmt: skip
    assert "Exact outgoing text" in proc.stderr and "Nothing was sent" in proc.stderr
    assert "Whitcombe" not in proc.stderr and "00482913" not in proc.stderr
    assert "⟦[PERSON_1]⟧" in proc.stderr
    # Minimum necessary: the contract does not name the person asked about, so no passage of
    # it is sent, and the review says why.
    assert "[Source 1]" not in proc.stderr and "sources sent: 0" in proc.stderr
    assert f"left out: {CONTRACT_TXT}, not about the person asked about" in proc.stderr
    assert proc.stdout.strip() == ""  # no answer was made
    ledger = json.loads(enclave(home, "audit", "--json", "--limit", "0").stdout)
    assert ledger["summary"]["frontier_calls"] == 0 and ledger["summary"]["allowed_outbound"] == 0
    # Without --show-request, a script's --yes is not consent when review is mandatory.
    proc = enclave(home, "ask", question, "-w", "acme", "--frontier", "--yes", "--json",
                   prefix=["env", f"ENCLAVE_POLICY={policy}"])  # fmt: skip
    assert "review every request" in proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["route"]["tier"] != "frontier" and answer["notices"][0].startswith("Nothing")
