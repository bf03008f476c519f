"""Word (.docx) -> text, with python-docx.

A .docx file has no pages (Word lays them out only when it displays or prints), so the whole
document is one Page numbered 1: citations for Word files name the document, not a page.

The extracted text is, in this order, with blocks separated by a blank line:
headers (each distinct one once), body paragraphs and tables in document order (table cells
joined by " | ", one row per line, nested tables included), text boxes, footnotes and endnotes
("[Footnote] ..."), footers (each distinct one once), and comments ("[Comment] ...").
Empty paragraphs are skipped. Text inside tracked insertions, content controls, fields and
hyperlinks is kept; tracked deletions and field codes are not.

Call only inside the parse worker process (rag.parse_worker). Before python-docx reads the file
the zip directory is checked: a zip bomb (members expanding past limits.max_decompressed_mb), a
broken zip, or a password-protected / old binary Word file are rejected with a reason.

A big file is not a damaged one: the XML is read without libxml2's fixed caps on one text node
(10 MB) and nesting, so a large document is judged by the limits a person can see (max_chars,
max_decompressed_mb, parse_memory_mb), each named in the reason. Entities are never expanded
(no entity-expansion bombs); a reference to one inside text keeps the text around it, and
becomes its character where it is a standard (HTML) entity name.
"""

from __future__ import annotations

import contextlib
import html.entities
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.limits import ParseLimits
from rag.parsers import NO_TEXT, ParseRejected, damaged, format_mb, single_page
from rag.parsers.text import too_many_chars
from rag.types import ParsedDocument

if TYPE_CHECKING:
    from docx.document import Document

BLOCK_SEPARATOR = "\n\n"
CELL_SEPARATOR = " | "
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_NOT_NOTES = ("separator", "continuationSeparator", "continuationNotice")
# libxml2's words for running out of memory, and for its fixed caps (hit only without huge_tree)
_XML_MEMORY = ("memory allocation failed", "out of memory")
_XML_CAPS = ("huge", "excessive depth", "too deep", "maximum depth")
TOO_NESTED = (
    "The Word file is nested more deeply than Enclave reads safely (tables or boxes within "
    "each other thousands of levels deep), so it was not read."
)


def check_package(path: Path, limits: ParseLimits) -> None:
    """Reject what python-docx should not be given: not a zip, a zip bomb, a protected file."""
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            if head == _OLE_MAGIC:
                data = fh.read(min(path.stat().st_size, 4 * 1024 * 1024))
                if _ENCRYPTED_PACKAGE in data:
                    raise ParseRejected(
                        "This Word document is protected by a password; Enclave cannot open "
                        "protected Word files yet. Save a copy without the password and add that."
                    )
                raise ParseRejected(
                    "This is an old-format Word file (.doc) with a .docx name; open it in Word "
                    "and save it as .docx."
                )
    except OSError as exc:
        raise ParseRejected(f"The file cannot be read ({exc.strerror or exc}).") from exc
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise damaged("it is not a complete .docx package") from exc
    expanded = sum(info.file_size for info in infos)
    if expanded > limits.max_decompressed_bytes:
        raise ParseRejected(
            f"The Word file would expand to {format_mb(expanded)} when opened; the limit is "
            f"{format_mb(limits.max_decompressed_bytes)} (max_decompressed_mb in settings)."
        )
    if not any(info.filename == "[Content_Types].xml" for info in infos):
        raise ParseRejected("This file is not a Word document (.docx), although its name says so.")


@contextlib.contextmanager
def _large_documents() -> Iterator[None]:
    """Let python-docx read parts past libxml2's fixed caps (one text node over 10 MB, deep
    nesting): the worker's memory and time limits bound the cost instead. Entities stay
    unresolved, as in python-docx's own parser."""
    from docx.oxml import parser as oxml
    from lxml import etree

    original = oxml.oxml_parser
    large = etree.XMLParser(
        remove_blank_text=True, resolve_entities=False, huge_tree=True, no_network=True
    )
    large.set_element_class_lookup(oxml.element_class_lookup)
    oxml.oxml_parser = large
    try:
        yield
    finally:
        oxml.oxml_parser = original


def _xml_failure(exc: Exception) -> Exception:
    """What an lxml failure is: out of memory (a MemoryError, which the worker reports as the
    parse_memory_mb limit), too deeply nested (a limit), or damage."""
    message = str(exc).lower()
    if any(word in message for word in _XML_MEMORY):
        return MemoryError()
    if any(word in message for word in _XML_CAPS):
        return ParseRejected(TOO_NESTED)
    return damaged("its contents cannot be read")


def _open(path: Path) -> Document:
    import zlib

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        with _large_documents():
            return docx.Document(str(path))
    except PackageNotFoundError as exc:
        raise damaged("it is not a complete .docx package") from exc
    except ValueError as exc:
        if "not a Word file" in str(exc):
            raise ParseRejected(
                "This file is not a Word document (.docx), although its name says so."
            ) from exc
        raise damaged("its contents cannot be read") from exc
    except XMLSyntaxError as exc:
        raise _xml_failure(exc) from exc
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise damaged("its contents cannot be read") from exc


# -- reading WordprocessingML ------------------------------------------------------------
# python-docx's Paragraph.text reads only runs that are direct children of a paragraph, and
# Document.iter_inner_content() only direct paragraphs and tables of the body: text inside
# tracked insertions, content controls (w:sdt, common in legal templates), fields and smart
# tags would be lost. So the XML is walked here, in document order.
_SKIP_IN_PARAGRAPH = frozenset(
    _W + tag
    for tag in ("pPr", "rPr", "del", "moveFrom", "delText", "instrText", "txbxContent", "sdtPr")
) | {_MC + "Fallback"}
_WRAPPERS = frozenset(_W + tag for tag in ("sdt", "sdtContent", "customXml", "ins", "moveTo"))
_CHAR_TAGS = {_W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n", _W + "noBreakHyphen": "-"}


def _paragraph_text(p: Any) -> str:
    """The visible text of a w:p: runs anywhere inside it (insertions, fields, controls), but
    not deleted text, field codes, or text boxes (read separately)."""
    parts: list[str] = []

    def walk(element: Any) -> None:
        for child in element:
            tag = child.tag
            if tag in _SKIP_IN_PARAGRAPH or not isinstance(tag, str):
                continue
            if tag == _W + "t":
                parts.append(_run_text(child))
            elif tag in _CHAR_TAGS:
                parts.append(_CHAR_TAGS[tag])
            else:
                walk(child)

    walk(p)
    return "".join(parts).strip()


def _run_text(t: Any) -> str:
    """The text of a w:t. lxml keeps an entity reference it did not resolve as a child node,
    with the text after it as that node's tail: both are kept (a comment's tail too)."""
    from lxml import etree

    pieces = [t.text or ""]
    for node in t:
        if node.tag is etree.Entity:
            pieces.append(_entity_text(node.name))
        pieces.append(node.tail or "")
    return "".join(pieces)


def _entity_text(name: str) -> str:
    """A standard entity's character (&nbsp; -> U+00A0); any other stays as written."""
    return html.entities.html5.get(f"{name};", f"&{name};")


def _children(element: Any, tag: str) -> Iterator[Any]:
    """Children of `element` named `tag`, looking through content controls and the like."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, tag)


def _table_lines(tbl: Any) -> Iterator[str]:
    """One line per row, cells joined by CELL_SEPARATOR (a merged cell appears once)."""
    for tr in _children(tbl, _W + "tr"):
        cells = [" ".join(_blocks(tc)) for tc in _children(tr, _W + "tc")]
        if any(cells):
            yield CELL_SEPARATOR.join(cells)


def _blocks(container: Any) -> Iterator[str]:
    """Texts of the paragraphs and tables of a body, cell, header, footer, note or comment."""
    for child in container:
        if child.tag == _W + "p":
            text = _paragraph_text(child)
            if text:
                yield text
        elif child.tag == _W + "tbl":
            lines = list(_table_lines(child))
            if lines:
                yield "\n".join(lines)
        elif child.tag in _WRAPPERS:
            yield from _blocks(child)


def _distinct(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def _related_roots(document: Document, reltype: str) -> list[Any]:
    """Root XML elements of the parts the main document relates to by `reltype`."""
    from lxml import etree

    parts = sorted(
        (
            rel.target_part
            for rel in document.part.rels.values()
            if not rel.is_external and rel.reltype == reltype
        ),
        key=lambda part: str(part.partname),
    )
    parser = etree.XMLParser(resolve_entities=False, huge_tree=True, no_network=True)
    roots = []
    for part in parts:
        element = getattr(part, "element", None)  # python-docx parsed it already
        roots.append(etree.fromstring(part.blob, parser) if element is None else element)
    return roots


def _headers_or_footers(document: Document, reltype: str) -> list[str]:
    return _distinct("\n".join(_blocks(root)) for root in _related_roots(document, reltype))


def _text_boxes(document: Document) -> list[str]:
    body = document.element.body
    boxes = ["\n".join(_blocks(box)) for box in body.iter(_W + "txbxContent")]
    return _distinct(boxes)  # Word stores each box twice (DrawingML and a VML fallback)


def _labelled(document: Document, reltype: str, tag: str, label: str) -> list[str]:
    """Footnotes, endnotes or comments, each as "[Label] text"."""
    texts: list[str] = []
    for root in _related_roots(document, reltype):
        for item in root.iter(_W + tag):
            if item.get(_W + "type") in _NOT_NOTES:
                continue
            text = "\n".join(_blocks(item))
            if text:
                texts.append(f"[{label}] {text}")
    return texts


def parse_docx(path: Path, limits: ParseLimits) -> ParsedDocument:
    """Extract a .docx file's text as one page (number 1; see the module docstring)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml.etree import XMLSyntaxError

    check_package(path, limits)
    document = _open(path)
    try:
        blocks = [
            *_headers_or_footers(document, RT.HEADER),
            *_blocks(document.element.body),
            *_text_boxes(document),
            *_labelled(document, RT.FOOTNOTES, "footnote", "Footnote"),
            *_labelled(document, RT.ENDNOTES, "endnote", "Endnote"),
            *_headers_or_footers(document, RT.FOOTER),
            *_labelled(document, RT.COMMENTS, "comment", "Comment"),
        ]
    except XMLSyntaxError as exc:
        raise _xml_failure(exc) from exc
    except (KeyError, IndexError, ValueError) as exc:
        raise damaged("its contents cannot be read") from exc
    except RecursionError as exc:
        raise ParseRejected(TOO_NESTED) from exc
    text = BLOCK_SEPARATOR.join(blocks)
    if len(text) > limits.max_chars:
        raise too_many_chars(len(text), limits)
    if not text.strip():
        raise ParseRejected(NO_TEXT)
    return single_page(text)
