"""Exported conversations carry their citations and are safe to open."""

from __future__ import annotations

from datetime import datetime

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
