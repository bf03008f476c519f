"""PDF -> text page by page, with PDFium (pypdfium2).

Call only inside the parse worker process (rag.parse_worker): PDFium is native code, and a
hostile file must not be able to crash or hang the app. Rules:
- A file whose end is missing (no `startxref` in its last 4 KB: an interrupted download, a
  fuzzed file) is rejected as damaged, even where PDFium could guess at a repair: a citation
  from a guessed repair could point at the wrong place.
- Encrypted files are first opened without a password (owner-password-only files open that way).
  If a user password is needed: without one -> needs_password; with a wrong one -> "Wrong password."
- A page without a text layer that holds images (a scanned page) is rendered with PDFium and
  read by OCR (rag.parsers.scan); only those pages: pages with text keep their text layer. Its
  Page is marked `ocr`. Pages where neither the text layer nor OCR gives text are named in a
  warning; a PDF with no text at all is rejected, as a scan when its pages are images.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.limits import ParseLimits
from rag.parsers import NO_TEXT, ParseRejected, damaged, join_pages, page_ranges
from rag.parsers.scan import PageOcr
from rag.types import ParsedDocument

if TYPE_CHECKING:
    import pypdfium2
    from PIL import Image

SCANNED = "This PDF is a scanned image with no text layer, and OCR found no text on its pages."
OCR_DPI = 200  # scanned pages are rendered at this resolution (at most rag.ocr.MAX_SIDE pixels)
NEEDS_PASSWORD = "This PDF is protected by a password. Give it with --password."
WRONG_PASSWORD = "Wrong password."
NO_TEXT_PDF = "The document contains no text (its pages are blank or drawn only as shapes)."

_HEAD_BYTES = 1024
_TAIL_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# PDFium marks a hyphen that ends a line (the line break itself is dropped) with \x02 or \ufffe:
# removing the marker joins the word again ("com-\npile" -> "compile").
_SOFT_HYPHEN = re.compile("[\x02\ufffe]")
_LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb06": "st",
}
_LIGATURE = re.compile("[" + "".join(_LIGATURES) + "]")


def clean_page_text(raw: str) -> str:
    """PDFium page text -> our text: \\n line ends, words re-joined at soft hyphens,
    ligatures spelled out, control characters replaced by spaces. (Each step first checks
    whether it has anything to do: most pages need only the line-end fix.)"""
    text = raw.replace("\r\n", "\n")
    if "\r" in text:
        text = text.replace("\r", "\n")
    if _SOFT_HYPHEN.search(text):
        text = _SOFT_HYPHEN.sub("", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    if _LIGATURE.search(text):
        text = _LIGATURE.sub(lambda m: _LIGATURES[m.group()], text)
    return text


def check_structure(path: Path) -> None:
    """Reject files that are not PDFs or whose end is missing, before PDFium sees them."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
            size = fh.seek(0, 2)
            fh.seek(max(0, size - _TAIL_BYTES))
            tail = fh.read()
    except OSError as exc:
        raise ParseRejected(f"The file cannot be read ({exc.strerror or exc}).") from exc
    if b"%PDF-" not in head:
        raise ParseRejected(
            "This file is not a PDF, although its name ends in .pdf (it does not start like one)."
        )
    if b"startxref" not in tail:
        raise damaged("the end of the PDF is missing; it may be an interrupted download")


def _open(path: Path, password: str | None) -> pypdfium2.PdfDocument:
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    def load(pw: str | None) -> pypdfium2.PdfDocument:
        return pypdfium2.PdfDocument(path.open("rb"), password=pw, autoclose=True)

    try:
        return load(None)
    except pypdfium2.PdfiumError as exc:
        code = exc.err_code
        if code != pdfium_c.FPDF_ERR_PASSWORD:
            raise _open_error(code) from exc
    if not password:
        raise ParseRejected(NEEDS_PASSWORD, outcome="needs_password")
    try:
        return load(password)
    except pypdfium2.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise ParseRejected(WRONG_PASSWORD, outcome="needs_password") from exc
        raise _open_error(exc.err_code) from exc


def _open_error(code: int | None) -> ParseRejected:
    import pypdfium2.raw as pdfium_c

    if code == pdfium_c.FPDF_ERR_SECURITY:
        return ParseRejected("This PDF uses a kind of protection that Enclave cannot open.")
    if code == pdfium_c.FPDF_ERR_FILE:
        return ParseRejected("The file cannot be opened (it may have been moved or locked).")
    if code in (None, pdfium_c.FPDF_ERR_SUCCESS):
        return damaged("the PDF has no pages")
    return damaged("the PDF's structure cannot be read")


def _has_visible_objects(page: Any) -> tuple[bool, bool]:
    """(has images, has any object) for a page without text."""
    import pypdfium2.raw as pdfium_c

    images = any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4))
    return images, images or pdfium_c.FPDFPage_CountObjects(page) > 0


def render_page(page: Any, dpi: float = OCR_DPI) -> Image.Image:
    """A page as a grey image for OCR, at `dpi` or less (its long side at most MAX_SIDE)."""
    from rag.ocr import MAX_SIDE

    width, height = page.get_size()  # in points, 1/72 inch
    scale = min(dpi / 72, MAX_SIDE / max(1.0, width, height))
    image: Image.Image = page.render(scale=scale, grayscale=True).to_pil()
    return image


def parse_pdf(
    path: Path,
    limits: ParseLimits,
    *,
    password: str | None = None,
    after_page: Callable[[], None] | None = None,
    ocr: PageOcr | None = None,
) -> ParsedDocument:
    """Extract the text of every page, by OCR for scanned pages (`ocr`, or a new PageOcr).
    `after_page` runs after each page (the worker uses it to check its memory). Raises
    ParseRejected with a reason for a person."""
    import pypdfium2

    ocr = ocr if ocr is not None else PageOcr(limits)
    check_structure(path)
    pdf = _open(path, password)
    try:
        n_pages = len(pdf)
        if n_pages > limits.max_pages:
            raise ParseRejected(
                f"The PDF has {n_pages:,} pages; the limit is {limits.max_pages:,} "
                "(max_pages in settings)."
            )
        texts: list[str] = []
        image_pages: list[int] = []
        drawn_pages: list[int] = []
        unreadable: list[int] = []
        total = 0
        for index in range(n_pages):
            number = index + 1
            try:
                page = pdf[index]
            except pypdfium2.PdfiumError:
                unreadable.append(number)
                texts.append("")
                continue
            try:
                textpage = page.get_textpage()
                text = clean_page_text(textpage.get_text_bounded())
                textpage.close()
                if not text.strip():
                    text = ""
                    images, anything = _has_visible_objects(page)
                    if images:
                        text = ocr.read(number, partial(render_page, page))
                        if not text:
                            image_pages.append(number)
                    elif anything:
                        drawn_pages.append(number)
            except pypdfium2.PdfiumError:
                unreadable.append(number)
                text = ""
            finally:
                page.close()
            texts.append(text)
            total += len(text) + 2
            if total > limits.max_chars:
                raise ParseRejected(
                    f"The document has more than {limits.max_chars:,} characters of text "
                    "(max_chars in settings)."
                )
            if after_page is not None:
                after_page()
    finally:
        pdf.close()
    return _result(texts, image_pages, drawn_pages, unreadable, ocr)


def _result(
    texts: list[str],
    image_pages: list[int],
    drawn_pages: list[int],
    unreadable: list[int],
    ocr: PageOcr,
) -> ParsedDocument:
    if not any(texts):
        if unreadable and not image_pages:
            raise damaged(f"page {page_ranges(unreadable)} cannot be read")
        if image_pages:
            raise ParseRejected(ocr.unavailable or _scan_reason(ocr))
        raise ParseRejected(NO_TEXT_PDF if drawn_pages else NO_TEXT)
    warnings = ocr.warnings()
    no_text = sorted(set(ocr.empty) | set(drawn_pages))
    if no_text:
        pages, they = ("pages", "they") if len(no_text) > 1 else ("page", "it")
        warnings.append(
            f"No text could be read on {pages} {page_ranges(no_text)} (OCR found none in "
            f"scanned images, or drawings only); {they} cannot be searched or cited."
        )
    if unreadable:
        plural = "Pages" if len(unreadable) > 1 else "Page"
        warnings.append(
            f"{plural} {page_ranges(unreadable)} could not be read (damaged) and are left out."
        )
    return join_pages(texts, warnings, ocr_pages=ocr.read_pages)


def _scan_reason(ocr: PageOcr) -> str:
    if ocr.out_of_time and not ocr.empty:
        return (
            "This PDF is a scanned image with no text layer, and OCR ran out of time before "
            "reading it (parse_timeout_s in settings)."
        )
    return SCANNED
