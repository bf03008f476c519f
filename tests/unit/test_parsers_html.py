"""HTML: visible text only, entities decoded, block structure kept, nothing fetched."""

from __future__ import annotations

from pathlib import Path

from rag.extract import extract
from rag.limits import ParseLimits
from rag.parsers.html import html_to_text, parse_html

PAGE = """<!DOCTYPE html>
<html><head>
  <title>Head title is dropped</title>
  <meta charset="utf-8">
  <link rel="stylesheet" href="https://example.invalid/style.css">
  <script>var leaked = "script text must not appear";</script>
</head>
<body>
  <style>.x { color: red } /* style text must not appear */</style>
  <h1>Referral&nbsp;letter</h1>
  <p>Dear Dr.   Smith,
     the patient &amp; her family agree. Fee: &euro;50 &#8211; paid.</p>
  <img src="https://example.invalid/tracker.png" alt="not text">
  <table><tr><th>Drug</th><th>Dose</th></tr><tr><td>Aspirin</td><td>100 mg</td></tr></table>
  <ul><li>First item</li><li>Second item</li></ul>
  <pre>  indented
    code</pre>
  <noscript>Enable JavaScript</noscript>
  <p>Line one<br>Line two</p>
  <script type="module">document.write("also hidden")</script>
</body></html>
"""


def test_visible_text_only_with_entities_and_structure(tmp_path: Path) -> None:
    path = tmp_path / "letter.html"
    path.write_text(PAGE, encoding="utf-8")
    result = extract(path)
    assert result.outcome == "ok", result.reason
    assert result.parsed is not None
    text = result.parsed.text
    for hidden in ("Head title", "script text", "style text", "color: red", "also hidden"):
        assert hidden not in text
    assert "Enable JavaScript" not in text
    assert "not text" not in text  # alt text of images is not body text
    assert text.startswith("Referral letter\n\n")  # &nbsp; is a space like any other
    assert "Dear Dr. Smith, the patient & her family agree. Fee: €50 – paid." in text
    assert "Drug | Dose\nAspirin | 100 mg" in text
    assert "First item\nSecond item" in text
    assert "  indented\n    code" in text  # <pre> keeps its spacing
    assert "Line one\nLine two" in text
    assert text == text.strip()
    [page] = result.parsed.pages
    assert (page.number, page.start, page.end) == (1, 0, len(text))


def test_paragraphs_are_separated_by_a_blank_line() -> None:
    text = html_to_text("<p>One.</p><p>Two.</p><div>Three</div>")
    assert text == "One.\n\nTwo.\n\nThree"


def test_head_without_closing_tag_ends_at_body() -> None:
    text = html_to_text("<html><head><title>T</title><body><p>Visible</p></body></html>")
    assert text == "Visible"


def test_declared_legacy_charset_is_used(tmp_path: Path) -> None:
    markup = '<html><head><meta charset="iso-8859-1"></head><body><p>Café – “quoted”</p></body>'
    path = tmp_path / "legacy.htm"
    path.write_bytes(markup.encode("cp1252"))  # what browsers mean by iso-8859-1
    parsed = parse_html(path, ParseLimits())
    assert parsed.text == "Café – “quoted”"
    assert parsed.warnings == []


def test_page_with_no_visible_text_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><title>x</title></head><body><script>1</script></body></html>")
    result = extract(path)
    assert result.outcome == "rejected"
    assert result.reason == "The document contains no text."


def test_unclosed_tags_and_stray_markup_do_not_fail() -> None:
    text = html_to_text("<div><p>Open <b>bold <i>both</div></p></span>tail &unknown; &lt;x&gt;")
    assert "Open bold both" in text
    assert "tail &unknown; <x>" in text
