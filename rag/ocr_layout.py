"""Reading order for OCR'd text boxes: columns first, lines top to bottom, words left to right.

An OCR engine finds text boxes, not a reading order: sorted by position alone, the lines of a
two-column page interleave ("left line 1, right line 1, left line 2, ..."). `reading_order`
applies a recursive XY-cut: a region is split at a vertical gap that no box crosses (a gutter
between columns, each at least a quarter of the region wide) when there is one, else at its
widest horizontal gap (between blocks or lines); a region with neither is one line, read left
to right. Boxes are compared by their vertical core (the middle half of their height), since
OCR boxes are padded and the boxes of neighbouring lines often overlap. Pure Python, no heavy
imports: runs anywhere. (A gutter narrower than the engine's box padding is not seen: the
engine then finds one box across both columns; measured in bench/bench_ocr.py.)
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in pixels (y grows downwards)."""

_MIN_COLUMN_GAP = 0.8  # a gutter is at least this many line heights wide
_CORE = 0.25  # a box's vertical core: its centre +- a quarter of its height
_MIN_COLUMN_SHARE = 0.25  # each column is at least this share of the region's width


def _width(ids: list[int], boxes: Sequence[Box]) -> float:
    return max(boxes[i][2] for i in ids) - min(boxes[i][0] for i in ids)


def _core(box: Box) -> tuple[float, float]:
    centre = (box[1] + box[3]) / 2
    half = (box[3] - box[1]) * _CORE
    return centre - half, centre + half


def _widest_gap(spans: list[tuple[float, float]]) -> tuple[float, float]:
    """(width, position) of the widest gap between the union of `spans`; width 0 when none."""
    best = (0.0, 0.0)
    spans = sorted(spans)
    reach = spans[0][1]
    for lo, hi in spans[1:]:
        if lo > reach and lo - reach > best[0]:
            best = (lo - reach, (lo + reach) / 2)
        reach = max(reach, hi)
    return best


def _order(ids: list[int], boxes: Sequence[Box], line_height: float) -> list[list[int]]:
    if len(ids) == 1:
        return [ids]
    x_gap, x_at = _widest_gap([(boxes[i][0], boxes[i][2]) for i in ids])
    y_gap, y_at = _widest_gap([_core(boxes[i]) for i in ids])
    if x_gap >= _MIN_COLUMN_GAP * line_height and y_gap > 0:
        # columns: a multi-line region that a gutter runs through from top to bottom, with
        # text on both sides (not a table of contents' page numbers, nor a list's numbers)
        left = [i for i in ids if boxes[i][2] <= x_at]
        right = [i for i in ids if boxes[i][2] > x_at]
        if min(_width(left, boxes), _width(right, boxes)) >= _MIN_COLUMN_SHARE * _width(ids, boxes):
            return _order(left, boxes, line_height) + _order(right, boxes, line_height)
    if y_gap > 0:
        top = [i for i in ids if _core(boxes[i])[1] <= y_at]
        bottom = [i for i in ids if _core(boxes[i])[1] > y_at]
        return _order(top, boxes, line_height) + _order(bottom, boxes, line_height)
    return [sorted(ids, key=lambda i: boxes[i][0])]  # one line


def reading_order(boxes: Sequence[Box]) -> list[list[int]]:
    """The lines of a page in reading order, each line the indices of its boxes left to right."""
    if not boxes:
        return []
    line_height = median(max(1.0, b[3] - b[1]) for b in boxes)
    return _order(list(range(len(boxes))), boxes, line_height)


def page_text(boxes: Sequence[Box], texts: Sequence[str]) -> str:
    """The text of a page from its OCR boxes: one line per line, words joined by spaces."""
    lines = reading_order(boxes)
    return "\n".join(" ".join(texts[i].strip() for i in line) for line in lines)
