"""Page images for the OCR tests, made here: fax-like pages drawn with Pillow, PDFs of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FAX_SIZE = (1700, 2200)  # a letter page at 200 dpi, the resolution of a fine-mode fax


def fax_page(lines: Sequence[str], *, size: int = 40) -> Image.Image:
    """A 1-bit page (as a fax machine sends it) with `lines` of black text from the top left."""
    page = Image.new("1", FAX_SIZE, 1)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=size)
    y = 160
    for line in lines:
        draw.text((150, y), line, font=font, fill=0)
        y += int(size * 1.6)
    return page


def save_tiff(path: Path, pages: Sequence[Image.Image]) -> Path:
    """A multi-page TIFF fax (CCITT Group 4, one frame per page)."""
    pages[0].save(path, save_all=True, append_images=list(pages[1:]), compression="group4")
    return path


def image_pdf(path: Path, pages: Sequence[Image.Image]) -> Path:
    """A PDF whose pages are only images (no text layer), as a scanner writes it."""
    rgb = [p.convert("RGB") for p in pages]
    rgb[0].save(path, save_all=True, append_images=rgb[1:], resolution=200.0)
    return path


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row per character of `a` (insertions via a running minimum)."""
    import numpy as np

    if not a or not b:
        return max(len(a), len(b))
    codes = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, ch in enumerate(a, start=1):
        best = np.empty(len(b) + 1, dtype=np.int64)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, row[:-1] + (codes != ord(ch)))
        row = np.minimum.accumulate(best - steps) + steps
    return int(row[-1])


def char_accuracy(ocr: str, reference: str) -> float:
    """1 - edit distance / reference length, whitespace collapsed on both sides."""
    ocr, reference = (re.sub(r"\s+", " ", t).strip() for t in (ocr, reference))
    return 1 - levenshtein(ocr, reference) / max(1, len(reference))
