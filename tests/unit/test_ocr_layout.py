"""Reading order of OCR boxes, and what PageOcr says about the pages it read (a scripted engine
stands in for RapidOCR here; tests/integration/test_ocr.py runs the real one)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PIL import Image

from rag.limits import ParseLimits
from rag.ocr import CONFIDENCE_FLOOR, OcrPage
from rag.ocr_layout import page_text, reading_order
from rag.parsers.scan import PageOcr


def line(x0: float, y: float, x1: float, h: float = 30) -> tuple[float, float, float, float]:
    return (x0, y, x1, y + h)


def test_two_columns_are_read_column_by_column_under_a_full_width_title() -> None:
    boxes = [line(100, 50, 1500)]  # the title, across both columns
    texts = ["Title"]
    for row in range(3):  # the columns' lines sit at the same heights
        y = 150 + row * 40
        boxes += [line(100, y, 780), line(860, y, 1500)]
        texts += [f"left {row}", f"right {row}"]
    assert page_text(boxes, texts) == "\n".join(
        ["Title", "left 0", "left 1", "left 2", "right 0", "right 1", "right 2"]
    )


def test_padded_boxes_of_neighbouring_lines_stay_separate_lines() -> None:
    # Each box overlaps the next by 10 px (OCR pads its boxes); words of a line left to right.
    boxes = [line(400, 0, 700, 40), line(100, 0, 380, 40), line(100, 30, 900, 40)]
    assert reading_order(boxes) == [[1, 0], [2]]
    assert page_text(boxes, ["world", "hello", "next line"]) == "hello world\nnext line"


def test_no_boxes_no_text() -> None:
    assert reading_order([]) == [] and page_text([], []) == ""


@dataclass
class ScriptedEngine:
    pages: list[OcrPage]

    def read(self, image: Image.Image) -> OcrPage:
        return self.pages.pop(0)


def scripted(*pages: OcrPage, timeout_s: float = 120) -> PageOcr:
    ocr = PageOcr(ParseLimits(timeout_s=timeout_s))
    ocr._engine = ScriptedEngine(list(pages))  # type: ignore[assignment]
    return ocr


def blank() -> Image.Image:
    return Image.new("L", (10, 10), 255)


def test_low_confidence_pages_are_named_and_kept() -> None:
    ocr = scripted(OcrPage("good", 0.97), OcrPage("smudged", 0.41), OcrPage("", 0.0))
    assert [ocr.read(n, blank) for n in (1, 2, 3)] == ["good", "smudged", ""]
    assert ocr.read_pages == [1, 2] and ocr.empty == [3] and ocr.low_confidence() == [2]
    [warning] = ocr.warnings()
    assert warning.startswith("OCR read page 2 with low confidence (lowest 41%, below 80%)")
    assert CONFIDENCE_FLOOR == 0.80


def test_pages_past_the_time_budget_are_left_out_and_named() -> None:
    limits = ParseLimits(timeout_s=0.001, ocr_timeout_s=0.001)
    ocr = PageOcr(limits, started=0.0)  # long past its deadline
    ocr._engine = ScriptedEngine([])  # type: ignore[assignment]
    assert [ocr.read(n, blank) for n in (1, 2, 3)] == ["", "", ""]
    assert ocr.out_of_time == [1, 2, 3]
    assert ocr.warnings() == [
        "OCR ran out of time before pages 1-3, which are left out "
        "(parse_ocr_timeout_s in settings)."
    ]


def test_missing_ocr_engine_is_a_sentence_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.ocr

    def missing() -> None:
        raise rag.ocr.OcrUnavailable("the OCR engine (rapidocr) is not installed")

    ocr = PageOcr(ParseLimits())
    monkeypatch.setattr(rag.ocr, "model_dir", missing)
    assert ocr.read(4, blank) == ""
    assert ocr.unavailable == (
        "OCR is not available in this installation: the OCR engine (rapidocr) is not installed."
    )
    assert ocr.warnings()[-1].endswith("Left out: page 4.")


def test_a_table_of_contents_keeps_its_page_numbers_on_their_lines() -> None:
    boxes, texts = [line(340, 340, 530)], ["Contents"]
    for row in range(4):
        y = 410 + row * 60
        boxes += [line(340, y, 445), line(1284, y, 1305)]
        texts += [f"{row + 1} Foo", str(row + 2)]
    assert page_text(boxes, texts).splitlines() == [
        "Contents",
        "1 Foo 2",
        "2 Foo 3",
        "3 Foo 4",
        "4 Foo 5",
    ]
