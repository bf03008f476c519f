"""The same all-MiniLM-L6-v2 model run by ONNX Runtime, with no torch in the process.

The ONNX file is made at install time from the packaged weights
(`packaging/export_embedder_onnx.py`), never downloaded. Beside it, `<file>.json` records its
sha256, the fingerprint of the model folder it was exported from and the tokenizer's settings.
At load the file is hashed and checked against that record: a damaged file is refused with one
sentence. The fp32 file's vectors equal the PyTorch ones (min cosine >= 0.9999, checked at export
and in the tests), so it keeps the PyTorch embedder's `name` and existing workspaces stay valid.
The install step also makes a dynamic int8 file from it (record variant "int8"): its vectors
moved (min cosine ~0.98), so it has its own name and a workspace switching re-embeds.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.embedder import EmbedderUnavailableError, model_identity

ONNX_FILE_NAME = "all-MiniLM-L6-v2.onnx"
INT8_FILE_NAME = "all-MiniLM-L6-v2.int8.onnx"  # dynamic int8, made from the fp32 file
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def installed_onnx_path(prefix: Path | None = None) -> Path:
    """Where the install step writes the ONNX file: <environment>/share/enclave/embedder/."""
    base = Path(prefix) if prefix is not None else Path(sys.prefix)
    return base / "share" / "enclave" / "embedder" / ONNX_FILE_NAME


def installed_int8_path(prefix: Path | None = None) -> Path:
    """Where the install step writes the dynamic int8 file, beside the fp32 one."""
    return installed_onnx_path(prefix).with_name(INT8_FILE_NAME)


def record_path(onnx_path: Path) -> Path:
    return onnx_path.with_name(onnx_path.name + ".json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class OnnxRecord:
    """What the export step wrote beside the ONNX file."""

    sha256: str
    source_fingerprint: str
    max_seq_length: int
    dimension: int
    variant: str = "fp32"  # "int8": dynamically quantised, its vectors differ (its own name)

    @classmethod
    def read(cls, onnx_path: Path) -> OnnxRecord:
        path = record_path(onnx_path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                sha256=str(data["sha256"]),
                source_fingerprint=str(data["source_fingerprint"]),
                max_seq_length=int(data["max_seq_length"]),
                dimension=int(data["dimension"]),
                variant=str(data.get("variant", "fp32")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EmbedderUnavailableError(
                f"The document search model's ONNX record {path.name} is missing or unreadable "
                f"({type(exc).__name__}): run `python packaging/export_embedder_onnx.py` again."
            ) from exc

    def write(self, onnx_path: Path, **extra: object) -> None:
        data = {
            "sha256": self.sha256,
            "source_fingerprint": self.source_fingerprint,
            "max_seq_length": self.max_seq_length,
            "dimension": self.dimension,
            "variant": self.variant,
            **extra,
        }
        record_path(onnx_path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def verify_onnx_file(onnx_path: Path, model_path: Path) -> OnnxRecord:
    """The record of an intact ONNX file exported from `model_path`'s weights, or one sentence
    (EmbedderUnavailableError) saying what is wrong with it."""
    record = OnnxRecord.read(onnx_path)
    try:
        actual = file_sha256(onnx_path)
    except OSError as exc:
        raise EmbedderUnavailableError(
            f"The document search model's ONNX file {onnx_path} cannot be read "
            f"({type(exc).__name__})."
        ) from exc
    if actual != record.sha256:
        raise EmbedderUnavailableError(
            f"The document search model's ONNX file {onnx_path.name} is damaged (its sha256 "
            "does not match the one recorded when it was made): run "
            "`python packaging/export_embedder_onnx.py` to make it again."
        )
    _, fingerprint = model_identity(model_path)
    if fingerprint != record.source_fingerprint:
        raise EmbedderUnavailableError(
            f"The document search model's ONNX file {onnx_path.name} was made from other "
            "weights than the installed model: run `python packaging/export_embedder_onnx.py` "
            "to make it again."
        )
    return record


def onnx_embedder_name(model_path: Path, variant: str) -> str:
    """The fp32 file's vectors equal PyTorch's and share its name; a quantised file's vectors
    moved, so they get their own (a workspace indexed with the other re-embeds)."""
    label, fingerprint = model_identity(model_path)
    name = f"sentence-transformers:{label}@{fingerprint}"
    return name if variant == "fp32" else f"{name}+onnx-{variant}"


class OnnxEmbedder:
    """all-MiniLM-L6-v2 through ONNX Runtime and the `tokenizers` library; unit vectors.

    `model_path` is the packaged model folder (tokenizer.json, and the identity of the weights);
    `onnx_path` the exported graph (input ids, mask, type ids -> mean-pooled, normalised
    sentence vectors). Thread-safe: calls are serialised by a lock, like the PyTorch embedder.
    """

    def __init__(
        self,
        model_path: Path,
        onnx_path: Path,
        *,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        model_path, onnx_path = Path(model_path), Path(onnx_path)
        if not onnx_path.is_file():
            raise EmbedderUnavailableError(f"No ONNX file of the search model at {onnx_path}.")
        record = verify_onnx_file(onnx_path, model_path)
        self._tokenizer = _load_tokenizer(model_path, record.max_seq_length)
        self._session = _load_session(onnx_path, threads)
        self.model_path, self.onnx_path = model_path, onnx_path
        self.batch_size = batch_size
        self.dimension: int = record.dimension
        self.variant = record.variant
        self.name: str = onnx_embedder_name(model_path, record.variant)
        self.backend = "onnxruntime"
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._encode(list(texts))
        return [[float(x) for x in row] for row in vectors.tolist()]

    def embed_query(self, text: str) -> list[float]:
        """all-MiniLM-L6-v2 uses no query prefix: the same as embedding a passage."""
        return self.embed([text])[0]

    def _encode(self, texts: list[str]) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = self._session.run(None, feed)[0]
        return out


def _load_tokenizer(model_path: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    except Exception as exc:
        raise EmbedderUnavailableError(
            f"The search model's tokenizer in {model_path} cannot be read ({type(exc).__name__})."
        ) from exc
    # as sentence-transformers calls it: truncate at max_seq_length, pad to the longest
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding()
    return tokenizer


def _load_session(onnx_path: Path, threads: int | None) -> Any:
    import onnxruntime as ort  # telemetry is switched off by the entry point (app.privacy)

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    # no busy-waiting between operators: on a shared 2-core machine spinning threads only burn
    # the CPU the other thread (and the other processes) needs; measured same wall, less CPU
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise EmbedderUnavailableError(
            f"The document search model's ONNX file {onnx_path.name} cannot be loaded "
            f"({type(exc).__name__}): run `python packaging/export_embedder_onnx.py` again."
        ) from exc
