"""The transcript renders model Markdown safely and turns [n] markers into citation links."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextCursor, QTextDocument

from app.desktop.facade import Citation
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


def test_streamed_tokens_render_and_are_replaced_by_the_final_answer(qtbot: Any) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.add_question("Q?")
    view.begin_answer("")
    for piece in ("The ", "term ", "is **five** years"):
        view.append_tokens(piece)
    qtbot.waitUntil(lambda: "five years" in view.toPlainText(), timeout=2000)
    assert view.streaming
    view.finish_answer("m9", "The term is five years [1].", [cite(1)], "meta line")
    assert not view.streaming
    text = view.toPlainText()
    assert text.count("The term is five years") == 1
    assert "meta line" in text and "Sources" in text
    cursor = QTextCursor(view.document())
    assert cursor is not None
