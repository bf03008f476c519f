"""Choosing the search model's back-end, and the ONNX record's sentences (no model is loaded:
the real back-ends are tested in tests/integration/test_embedder_onnx.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rag.embedder import EmbedderUnavailableError
from rag.onnx_embedder import (
    OnnxEmbedder,
    OnnxRecord,
    installed_onnx_path,
    record_path,
    verify_onnx_file,
)
from rag.search_model import load_embedder


def test_an_unknown_back_end_is_refused_in_words(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError, match="use auto, onnx or torch"):
        load_embedder(tmp_path, None, backend="tensorflow")


def test_onnx_asked_for_but_not_installed_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError, match=r"export_embedder_onnx\.py"):
        load_embedder(tmp_path, tmp_path / "absent.onnx", backend="onnx")
    with pytest.raises(EmbedderUnavailableError, match="No ONNX file"):
        OnnxEmbedder(tmp_path, tmp_path / "absent.onnx")


def test_the_onnx_file_lives_in_the_environment() -> None:
    path = installed_onnx_path()
    assert path.is_relative_to(Path(sys.prefix))
    assert installed_onnx_path(Path("/opt/enclave")) == Path(
        "/opt/enclave/share/enclave/embedder/all-MiniLM-L6-v2.onnx"
    )


def test_a_missing_or_broken_record_is_one_sentence(tmp_path: Path) -> None:
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"not really a graph")
    with pytest.raises(EmbedderUnavailableError, match="missing or unreadable") as caught:
        verify_onnx_file(onnx, tmp_path)
    assert "\n" not in str(caught.value)
    record_path(onnx).write_text("{not json", encoding="utf-8")
    with pytest.raises(EmbedderUnavailableError, match="missing or unreadable"):
        verify_onnx_file(onnx, tmp_path)


def test_a_file_that_does_not_match_its_record_is_damaged(tmp_path: Path) -> None:
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"graph bytes")
    OnnxRecord("0" * 64, "abc", 256, 384).write(onnx)
    with pytest.raises(EmbedderUnavailableError, match="is damaged"):
        verify_onnx_file(onnx, tmp_path)


def test_a_file_made_from_other_weights_is_refused(tmp_path: Path) -> None:
    from rag.onnx_embedder import file_sha256

    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"graph bytes")
    OnnxRecord(file_sha256(onnx), "other-weights", 256, 384).write(onnx)
    with pytest.raises(EmbedderUnavailableError, match="other weights"):
        verify_onnx_file(onnx, tmp_path)
    OnnxRecord(file_sha256(onnx), "other-weights", 256, 384).write(onnx, opset=17)
    assert OnnxRecord.read(onnx).dimension == 384


def test_the_int8_file_lives_beside_the_fp32_one() -> None:
    from rag.onnx_embedder import installed_int8_path

    assert installed_int8_path(Path("/opt/enclave")) == Path(
        "/opt/enclave/share/enclave/embedder/all-MiniLM-L6-v2.int8.onnx"
    )


def test_int8_asked_for_but_not_installed_says_how_to_make_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.library.indexes import load_search_model

    monkeypatch.setenv("ENCLAVE_EMBEDDER_BACKEND", "onnx-int8")
    monkeypatch.setenv("ENCLAVE_EMBEDDER_ONNX", str(tmp_path / "absent.int8.onnx"))
    with pytest.raises(EmbedderUnavailableError, match=r"export_embedder_onnx\.py"):
        load_search_model()


def test_torch_asked_for_where_it_is_not_installed_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-folder app carries no PyTorch: ENCLAVE_EMBEDDER_BACKEND=torch there gets a
    sentence saying what to do, not an ImportError's traceback."""
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
    with pytest.raises(EmbedderUnavailableError, match=r"not installed here.*ONNX back-end"):
        load_embedder(tmp_path, None, backend="torch")
