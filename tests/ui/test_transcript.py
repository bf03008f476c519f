"""The transcript renders model Markdown safely and turns [n] markers into citation links."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QTextDocument

from app.desktop.facade import Citation, EvidenceQuote, StoredMessage
from ui.answer_parts import AnswerParts, from_stored, token_limit_notice
from ui.transcript import TranscriptView, answer_markdown


def cite(n: int, quote: str = "the term is five years", verified: bool = True) -> Citation:
    return Citation(
        n=n, document="Lease.pdf", path="/docs/Lease.pdf", page=3, quote=quote,
        start=10, end=10 + len(quote), chunk_id=f"c{n}", verified=verified,
    )  # fmt: skip


def anchors(doc: QTextDocument) -> list[str]:
    found = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isAnchor():
                found.append(fmt.anchorHref())
            it += 1
        block = block.next()
    return found


def test_markers_become_citation_links_only_for_real_citations() -> None:
    md = answer_markdown("Five years [1]. Renewable [2, 3]. Unknown [7].", "m1", [1, 3])
    assert "(cite:m1:1)" in md and "(cite:m1:3)" in md
    assert "cite:m1:2" not in md and "cite:m1:7" not in md


def test_answer_renders_without_html_images_or_remote_loads(qtbot: Any) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    asked: list[str] = []
    original = view.loadResource

    def spy(kind: int, url: QUrl | str) -> Any:
        asked.append(url.toString() if isinstance(url, QUrl) else url)
        return original(kind, url)

    view.loadResource = spy  # type: ignore[method-assign]
    view.add_question("What is the term?")
    view.add_answer(
        "m1",
        "**Five years** [1]. <script>alert(1)</script> <img src='http://evil/x.png'> "
        "![tracker](http://evil/pixel.png) [see](http://evil/page)",
        [cite(1)],
        "smollm2 · CPU · 12 tokens",
    )
    text = view.toPlainText()
    assert "Five years" in text
    assert "<script>alert(1)</script>" in text  # shown as text, never run
    assert "tracker" in text  # an image becomes its alt text
    html = view.document().toHtml()
    assert "<img" not in html and "evil/pixel" not in html
    assert all(not a.startswith("http") for a in asked)
    assert "cite:m1:1" in anchors(view.document())


def test_clicking_a_marker_emits_its_citation_and_other_links_are_refused(qtbot: Any) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.add_answer("m1", "It lasts five years [1]. [more](https://example.com)", [cite(1)], "")
    with qtbot.waitSignal(view.citation_clicked) as clicked:
        view.anchorClicked.emit(QUrl("cite:m1:1"))
    assert clicked.args[0].n == 1 and clicked.args[0].page == 3
    with qtbot.waitSignal(view.link_refused) as refused:
        view.anchorClicked.emit(QUrl("https://example.com"))
    assert refused.args == ["https://example.com"]


def test_an_unverified_quote_is_never_shown_as_a_quote(qtbot: Any) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.add_answer("m1", "See [1].", [cite(1, quote="invented words", verified=False)], "")
    text = view.toPlainText()
    assert "invented words" not in text
    assert "no verified quote" in text


def quote(n: int = 1, line: int | None = 12) -> EvidenceQuote:
    return EvidenceQuote(
        n, "note.txt", "/docs/note.txt", 1, line, "Metoprolol 25 mg twice daily.", 100, 129,
        f"c{n}", 0.9,
    )  # fmt: skip


def block_texts(view: TranscriptView) -> list[tuple[str, bool]]:
    """Each block's text, and whether it is a list item."""
    out = []
    block = view.document().begin()
    while block.isValid():
        out.append((block.text(), block.textList() is not None))
        block = block.next()
    return out


def test_the_draft_is_not_shown_the_evidence_is_then_the_final_answer_replaces_it(
    qtbot: Any,
) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.add_question("Q?")
    view.begin_answer("")
    view.show_evidence([quote()])
    for piece in ("The ", "term ", "is **five** unchecked years"):
        view.append_tokens(piece)
    view.set_stream_status("Writing the answer… 3 s · 12 tokens · 4.0 tokens/s")
    assert view.streaming
    text = view.toPlainText()
    assert "unchecked" not in text  # a sentence not yet checked is never on screen
    assert "“Metoprolol 25 mg twice daily.”" in text and "[1] note.txt, line 12" in text
    assert "4.0 tokens/s" in text
    view.finish_answer("m9", "The term is five years [1].", [cite(1)], "meta line")
    assert not view.streaming
    text = view.toPlainText()
    assert text.count("The term is five years") == 1 and "tokens/s" not in text
    assert "meta line" in text and "Sources" in text


def test_an_answer_opens_with_its_evidence_and_an_evidence_only_answer_is_not_repeated(
    qtbot: Any,
) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    q = quote()
    text = f"\u201c{q.quote}\u201d [1]"
    view.add_parts(AnswerParts("m1", text, (cite(1, q.quote),), (q,), True, ("A notice.",), "m"))
    plain = view.toPlainText()
    assert plain.index("From your documents") < plain.index(q.quote) < plain.index("A notice.")
    assert plain.count(q.quote) == 1  # not in the text, not again under Sources
    assert "evid:m1:1" in anchors(view.document())
    with qtbot.waitSignal(view.citation_clicked) as clicked:
        view.anchorClicked.emit(QUrl("evid:m1:1"))
    c = clicked.args[0]
    assert (c.quote, c.start, c.end, c.chunk_id, c.verified) == (q.quote, 100, 129, "c1", True)


def test_an_answer_that_begins_with_a_list_does_not_turn_what_follows_into_list_items(
    qtbot: Any,
) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.add_question("What are the doses?")
    view.add_parts(
        AnswerParts("m1", "1. Metoprolol 25 mg [1]\n2. Aspirin 81 mg\n\n- last item",
                    (cite(1),), (), False, ("Left out of the answer: one sentence.",), "meta")
    )  # fmt: skip
    view.add_question("And then?")
    view.add_parts(AnswerParts("m2", "- only a list", (), (), False, (), "meta two"))
    listed = {text for text, in_list in block_texts(view) if in_list}
    assert listed == {"Metoprolol 25 mg [1]", "Aspirin 81 mg", "last item", "only a list"}
    texts = [text for text, _ in block_texts(view)]
    for line in ("Enclave", "Sources", "meta", "meta two", "You", "And then?"):
        assert line in texts


def test_a_notice_says_when_an_answer_stopped_at_the_token_limit() -> None:
    assert "token limit (256 tokens)" in token_limit_notice("length", 256)
    assert token_limit_notice("stop", 12) == ""
    stored = StoredMessage(
        "m1", "c1", "assistant", "Partial", "now",
        {"finish_reason": "length", "tokens": 64, "notices": ["Left out of the answer: x."],
         "evidence": [quote().to_json()], "evidence_only": False},
    )  # fmt: skip
    parts = from_stored(stored)
    assert parts.notices[0].startswith("The answer stopped at the token limit (64 tokens)")
    assert parts.notices[1] == "Left out of the answer: x."
    assert parts.evidence[0].where() == "line 12"


def test_the_view_follows_new_content_unless_scrolled_up_then_offers_jump_to_latest(
    qtbot: Any,
) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    view.show()
    for i in range(30):
        view.add_question(f"Question {i}")
    view.begin_answer("")
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum() and view.following
    bar.setValue(0)  # the person scrolls up to read
    assert not view.following and view.jump_button.isVisible()
    view.show_evidence([quote(n) for n in range(1, 4)])
    assert bar.value() == 0  # new content does not pull the view down
    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    assert view.following and bar.value() == bar.maximum()
    assert not view.jump_button.isVisible()
    view.set_stream_status("Writing… 2 s")
    assert bar.value() == bar.maximum()
