"""TIFF (multi-page faxes included), PNG and JPEG -> text page by page, by OCR.

Call only inside the parse worker process (rag.parse_worker): Pillow's decoders and the OCR
engine are native code. Each frame of a TIFF is a page; a PNG or JPEG is one page. Every page is
marked `ocr`. An image too large to decode safely (Pillow's decompression-bomb check, over 89
million pixels) is refused before it is decoded; a frame that cannot be decoded is named in a
warning (or, when no frame can be, the file is rejected as damaged).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

from rag.limits import ParseLimits
from rag.parsers import ParseRejected, damaged, join_pages, page_ranges
from rag.parsers.scan import PageOcr
from rag.types import ParsedDocument

NO_TEXT_IMAGE = "OCR found no text in the image."


def parse_image(
    path: Path,
    limits: ParseLimits,
    *,
    after_page: Callable[[], None] | None = None,
    ocr: PageOcr | None = None,
) -> ParsedDocument:
    """OCR every page of the image file. Raises ParseRejected with a reason for a person."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    ocr = ocr if ocr is not None else PageOcr(limits)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ParseRejected(
                "The image is too large to read safely (over 89 million pixels)."
            ) from exc
        except UnidentifiedImageError as exc:
            raise damaged("the image cannot be decoded") from exc
        except OSError as exc:
            raise damaged("the image cannot be read") from exc
        with image:
            frames = int(getattr(image, "n_frames", 1))
            if frames > limits.max_pages:
                raise ParseRejected(
                    f"The image has {frames:,} pages; the limit is {limits.max_pages:,} "
                    "(max_pages in settings)."
                )
            texts, broken = _read_frames(ImageSequence.Iterator(image), ocr, after_page)
    return _result(texts, broken, ocr)


def _read_frames(
    frames: object, ocr: PageOcr, after_page: Callable[[], None] | None
) -> tuple[list[str], list[int]]:
    from PIL import Image

    texts: list[str] = []
    broken: list[int] = []
    number = 0
    iterator = iter(frames)  # type: ignore[call-overload]
    while True:
        try:
            frame = next(iterator)
            frame.load()
        except StopIteration:
            break
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning):
            number += 1
            broken.append(number)
            texts.append("")
            break  # a frame that cannot be decoded: the ones after it cannot be found
        number += 1
        texts.append(ocr.read(number, frame.copy))
        if after_page is not None:
            after_page()
    return texts, broken


def _result(texts: list[str], broken: list[int], ocr: PageOcr) -> ParsedDocument:
    if not any(texts):
        if ocr.unavailable:
            raise ParseRejected(ocr.unavailable)
        if broken and not ocr.empty:
            raise damaged("the image cannot be decoded")
        if ocr.out_of_time and not ocr.empty:
            raise ParseRejected(
                "OCR ran out of time before reading the image (parse_timeout_s in settings)."
            )
        raise ParseRejected(NO_TEXT_IMAGE)
    notes = ocr.warnings()
    if ocr.empty:
        pages = ("pages " if len(ocr.empty) > 1 else "page ") + page_ranges(ocr.empty)
        notes.append(f"OCR found no text on {pages}.")
    if broken:
        notes.append(
            f"Page {page_ranges(broken)} of the image cannot be decoded (damaged); it and "
            "any pages after it are left out."
        )
    return join_pages(texts, notes, ocr_pages=ocr.read_pages)
