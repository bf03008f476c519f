"""Exported conversations carry their citations and are safe to open."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest

from app.desktop.facade import Citation, StoredMessage
from app.library.export import conversation_html, conversation_markdown

NOW = datetime(2025, 1, 2, 3, 4)


def messages() -> list[StoredMessage]:
    good = Citation(1, "Lease.pdf", "/d/Lease.pdf", 3, "term of five (5) years", 5, 27, "c1", True)
    bad = Citation(2, "Notes.docx", "/d/Notes.docx", 1, "made up", 0, 7, "c2", False)
    meta = {"route": {"model_id": "smollm2"}, "device": "CPU", "tokens": 12, "seconds": 1.25}
    return [
        StoredMessage("u1", "c", "user", "How long <b>is</b> the lease?", "t"),
        StoredMessage(
            "a1", "c", "assistant", "Five years [1], see also [2].", "t", meta, [good, bad]
        ),
        StoredMessage("u2", "c", "user", "And rent?", "t"),
        StoredMessage("a2", "c", "assistant", "Not fin", "t", {"cancelled": True}, []),
        StoredMessage("u3", "c", "user", "Again?", "t"),
        StoredMessage("u4", "c", "user", "Again?", "t"),  # asked again (Regenerate)
    ]


def test_markdown_export_lists_sources_with_verified_quotes_only() -> None:
    md = conversation_markdown("Lease term", "ACME", messages(), NOW)
    assert md.startswith("# Lease term")
    assert '- [1] Lease.pdf, page 3: "term of five (5) years"' in md
    assert "- [2] Notes.docx, page 1 (no verified quote)" in md
    assert "made up" not in md
    assert "stopped before the end" in md
    assert md.count("Again?") == 1 and "(not answered)" in md
    assert "smollm2 · CPU · 12 tokens · 1.2 s" in md


def test_html_export_escapes_everything_and_loads_nothing() -> None:
    page = conversation_html("Lease <term>", "ACME", messages(), NOW)
    assert "<b>is</b>" not in page and "&lt;b&gt;is&lt;/b&gt;" in page
    assert "<title>Lease &lt;term&gt;</title>" in page
    assert "default-src 'none'" in page
    assert "<script" not in page and "http" not in page.split("</style>")[1]
    assert "<blockquote>term of five (5) years</blockquote>" in page
    assert "made up" not in page
    assert "href='#c-1-1'" in page and "id='c-1-1'" in page


def test_exports_open_with_the_evidence_and_say_they_are_machine_made() -> None:
    quote = "Patient files are kept for fourteen (14) years."
    evidence = [{"n": 1, "document": "policy.txt", "path": "/d/policy.txt", "page": 1,
                 "line": 3, "quote": quote, "start": 10, "end": 58}]  # fmt: skip
    cite = Citation(1, "policy.txt", "/d/policy.txt", 1, quote, 10, 58, "c1", True, True)
    meta = {"evidence": evidence, "evidence_only": True, "notices": ["Left out: one day."]}
    stored = [
        StoredMessage("u1", "c", "user", "How long are files kept?", "t"),
        StoredMessage("a1", "c", "assistant", f"\u201c{quote}\u201d [1]", "t", meta, [cite]),
    ]
    md = conversation_markdown("Retention", "Policy", stored, NOW)
    assert "Machine-made by Enclave" in md
    assert f'> [1] "{quote}"' in md and "policy.txt, line 3" in md
    assert md.count(quote) == 2  # the evidence and its source line; not the answer again
    assert "Left out: one day." in md
    page = conversation_html("Retention", "Policy", stored, NOW)
    assert "Machine-made by Enclave" in page and "policy.txt, line 3" in page


def test_the_chosen_version_is_exported_by_the_cli_and_says_which_of_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real history (SQLite in ENCLAVE_HOME), three versions of one answer, the second chosen:
    `enclave conversations export` writes that one only, marked "version 2 of 3"; list is as
    it was."""
    from app.cli import main
    from app.container import Enclave
    from app.desktop.facade import regenerate_question

    enclave = Enclave()
    ws = enclave.workspaces.create("Lease matter")
    history = enclave.history
    conv = history.create_conversation(ws.id, "How long is the lease?")
    history.add_message(conv.id, "user", "Who is the landlord?")
    history.add_message(conv.id, "assistant", "Acme Properties.")
    ids = []
    for n, text in enumerate(("Five years.", "Five (5) years [1].", "It runs to 2030.")):
        if n:
            regenerate_question(history, conv.id)
        history.add_message(conv.id, "user", "How long is the lease?")
        ids.append(history.add_message(conv.id, "assistant", text).id)
    history.choose_answer(ids[1])
    enclave.close()

    md_out, html_out = tmp_path / "lease.md", tmp_path / "lease.html"
    try:
        assert main(["conversations", "export", conv.id, "-o", str(md_out)]) == 0
        assert main(["conversations", "export", conv.id, "-o", str(html_out)]) == 0
        assert main(["conversations", "list", "-w", "Lease matter"]) == 0
    finally:
        for handler in logging.getLogger("app").handlers[:]:  # open_log's, for this home only
            if isinstance(handler, logging.FileHandler):
                logging.getLogger("app").removeHandler(handler)
                handler.close()
    md = md_out.read_text(encoding="utf-8")
    assert "Five (5) years [1]." in md
    assert "Five years." not in md and "2030" not in md
    assert "## Answer (version 2 of 3)" in md
    assert md.count("## Answer") == 2 and md.count("version ") == 1  # one answer had one version
    assert md.count("How long is the lease?") == 2  # the title and the question, once
    page = html_out.read_text(encoding="utf-8")
    assert "Answer, version 2 of 3" in page and "Five (5) years" in page and "2030" not in page
    out = capsys.readouterr().out
    assert f"{conv.id}  {conv.updated_at[:4]}" in out and out.rstrip().endswith(
        "How long is the lease?"
    )
