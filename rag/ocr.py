"""OCR of page images with RapidOCR (PP-OCRv6 text detection and recognition on onnxruntime).

Call only inside the parse worker process (rag.parse_worker): onnxruntime and OpenCV are native
code. The models are the ONNX files inside the `rapidocr` wheel, loaded by path; the library's
download helper is switched off before the engine is made, so a missing model is an error and
never a download. onnxruntime's telemetry is switched off before it is imported. The engine uses
one inference thread (the worker is single-threaded and its CPU-time limit counts every thread).
Nothing recognised is logged: the library's logger is set to errors only.
See docs/OCR.md for why this engine, and its measured accuracy and speed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.ocr_layout import Box, page_text

if TYPE_CHECKING:
    from PIL import Image

MODEL_FILES = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
CONFIDENCE_FLOOR = 0.80
"""A page whose recognised characters average a lower confidence is named in a warning."""
MAX_SIDE = 2500  # larger images are scaled down first (a 300 dpi letter page is 2550 x 3300)


class OcrUnavailable(RuntimeError):
    """The OCR engine or its model files are missing from this installation."""


class DownloadRefused(RuntimeError):
    """Raised instead of any download the OCR library tries (there must never be one)."""


@dataclass(frozen=True)
class OcrPage:
    """What OCR read on one page: its text (lines in reading order) and the mean confidence
    of its characters, 0..1 (0 when nothing was read)."""

    text: str
    confidence: float


def model_dir() -> Path:
    """The folder of the OCR models inside the installed `rapidocr` package (or the bundle)."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise OcrUnavailable("the OCR engine (rapidocr) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _refuse_download(*_: Any, **__: Any) -> None:
    raise DownloadRefused("the OCR models must come with the installation; nothing is downloaded")


class OcrEngine:
    """One RapidOCR engine with the packaged models. Runs on the thread that calls `read`
    (the parse worker's only thread)."""

    def __init__(self, *, threads: int = 1) -> None:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        models = model_dir()
        params: dict[str, Any] = {}
        for key, name in MODEL_FILES.items():
            path = models / name
            if not path.is_file():
                raise OcrUnavailable(f"the OCR model {name} is missing from the installation")
            params[key] = str(path)
        import rapidocr.utils.download_file as download_file
        from rapidocr import RapidOCR

        download_file.DownloadFile.run = _refuse_download  # type: ignore[method-assign]
        params.update(
            {
                "Global.log_level": "error",
                "Global.use_cls": False,
                "Global.model_root_dir": str(models),
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        self._ocr = RapidOCR(params=params)

    def read(self, image: Image.Image) -> OcrPage:
        """OCR one page image (any Pillow mode)."""
        import numpy as np

        image = _prepared(image)
        result: Any = self._ocr(np.asarray(image))
        texts = [str(t) for t in (result.txts or ())]
        scores = [float(s) for s in (result.scores or ())]
        if not texts or result.boxes is None:
            return OcrPage("", 0.0)
        boxes: list[Box] = [
            (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 0].max()), float(b[:, 1].max()))
            for b in np.asarray(result.boxes)
        ]
        weights = [max(1, len(t.strip())) for t in texts]
        confidence = sum(w * s for w, s in zip(weights, scores, strict=True)) / sum(weights)
        return OcrPage(page_text(boxes, texts), round(confidence, 4))


def _prepared(image: Image.Image) -> Image.Image:
    """RGB, at most MAX_SIDE pixels on its long side (a fax's 1-bit pixels included)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    longest = max(image.size)
    if longest > MAX_SIDE:
        scale = MAX_SIDE / longest
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        )
    return image
