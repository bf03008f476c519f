"""The search model a workspace uses: ONNX Runtime when its file is installed, else PyTorch.

Both run the same packaged all-MiniLM-L6-v2 weights and give the same vectors (one `name`), so
a workspace opens with either (rag.embedder: PyTorch; rag.onnx_embedder: ONNX Runtime).
"""

from __future__ import annotations

from pathlib import Path

from rag.embedder import Embedder, EmbedderUnavailableError, SentenceTransformerEmbedder

__all__ = ["load_embedder"]


def load_embedder(
    model_path: Path, onnx_path: Path | None = None, *, backend: str = "auto"
) -> Embedder:
    """The search model: through ONNX Runtime when `onnx_path` is an installed ONNX file made
    from these weights (no torch in the process), else through sentence-transformers (torch).

    `backend`: "auto" (ONNX if the file exists, else PyTorch), "onnx" or "torch". A damaged ONNX
    file is refused with one sentence (EmbedderUnavailableError), never silently replaced."""
    if backend not in ("auto", "onnx", "torch"):
        raise EmbedderUnavailableError(
            f"Unknown search model back-end {backend!r}: use auto, onnx or torch."
        )
    if backend != "torch" and onnx_path is not None and Path(onnx_path).is_file():
        from rag.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(model_path, Path(onnx_path))
    if backend == "onnx":
        raise EmbedderUnavailableError(
            f"The ONNX file of the search model is not installed ({onnx_path}): run "
            "`python packaging/export_embedder_onnx.py`, or use the PyTorch back-end."
        )
    return SentenceTransformerEmbedder(model_path)
