"""The one-folder bundle carries the OCR models where rag.ocr looks for them (a quick check of
packaging/enclave.spec's data-file collection; the bundle build itself is in
tests/integration/test_packaging_bundle.py)."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest

from rag.ocr import MODEL_FILES, model_dir

SPEC = Path(__file__).resolve().parents[2] / "packaging" / "enclave.spec"


def test_the_spec_collects_rapidocr_data_and_keeps_onnxruntime() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    assert 'datas += collect_data_files("rapidocr")' in spec
    excludes = spec[spec.index("excludes = [") : spec.index("]", spec.index("excludes = ["))]
    assert not re.search(r'^\s*"onnxruntime",', excludes, re.M), "OCR runs on onnxruntime"


def test_collected_files_hold_every_model_under_the_package_folder() -> None:
    hooks = pytest.importorskip("PyInstaller.utils.hooks")
    datas = hooks.collect_data_files("rapidocr")
    dests = {PurePosixPath(dest) / Path(src).name for src, dest in datas}
    for name in MODEL_FILES.values():
        assert PurePosixPath("rapidocr", "models", name) in dests, name
        assert (model_dir() / name).is_file()
    assert PurePosixPath("rapidocr", "config.yaml") in dests
    # model_dir() is the package's own models/ folder, wherever the package is (site-packages
    # here, _internal/rapidocr/ in the bundle): the same relative place as collected.
    assert model_dir().parent.name == "rapidocr" and model_dir().name == "models"
