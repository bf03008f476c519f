"""The pure-Python GGUF reader: metadata, sizes, and a plain-words reason for every bad file."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from models.errors import ModelFileError
from models.gguf import check_gguf_file, copy_with_metadata, read_gguf_info, write_gguf

GEMMA_META: dict[str, object] = {
    "general.architecture": "gemma3",
    "general.name": "Tiny Gemma",
    "general.license": "gemma",
    "general.size_label": "270M",
    "general.file_type": 15,
    "gemma3.context_length": 32768,
    "gemma3.block_count": 18,
    "tokenizer.ggml.tokens": ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", "a"],
    "tokenizer.ggml.bos_token_id": 2,
    "tokenizer.ggml.eos_token_id": 1,
}
TENSORS = [("token_embd.weight", (256, 8), 12), ("output_norm.weight", (64,), 0)]


@pytest.fixture()
def gemma_like(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.gguf"
    write_gguf(path, GEMMA_META, TENSORS)
    return path


def test_reads_metadata_and_sizes(gemma_like: Path) -> None:
    info = read_gguf_info(gemma_like)
    assert info.architecture == "gemma3"
    assert info.name == "Tiny Gemma"
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 32768
    assert info.block_count == 18
    assert info.license == "gemma"
    assert info.size_label == "270M"
    assert info.chat_template is None
    assert info.bos_token == "<bos>" and info.eos_token == "<eos>"
    assert info.marker_tokens == {"<start_of_turn>", "<end_of_turn>"}
    assert info.tensor_count == 2
    # Q4_K: 256 elements per 144-byte block -> 8 blocks; then 64 F32 = 256 bytes, 32-aligned.
    assert info.required_bytes == info.data_offset + 8 * 144 + 256
    assert info.size_bytes == gemma_like.stat().st_size
    assert info.complete


def test_quantization_guessed_from_tensors_without_file_type(tmp_path: Path) -> None:
    meta = {k: v for k, v in GEMMA_META.items() if k != "general.file_type"}
    path = tmp_path / "m.gguf"
    write_gguf(path, meta, [("w", (32, 64), 8), ("n", (32,), 0)])
    assert read_gguf_info(path).quantization == "Q8_0"


def test_chat_template_is_read(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    write_gguf(path, {**GEMMA_META, "tokenizer.chat_template": "{{ messages }}"}, TENSORS)
    assert read_gguf_info(path).chat_template == "{{ messages }}"


def test_truncated_data_is_detected_before_loading(gemma_like: Path, tmp_path: Path) -> None:
    data = gemma_like.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: len(data) - 300])
    with pytest.raises(ModelFileError, match="incomplete") as err:
        check_gguf_file(cut)
    assert f"{len(data) - 300:,} bytes of" in str(err.value)
    assert "interrupted" in str(err.value)


def test_truncated_inside_header(gemma_like: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(gemma_like.read_bytes()[:40])
    with pytest.raises(ModelFileError, match="incomplete"):
        check_gguf_file(cut)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no file"):
        check_gguf_file(tmp_path / "nope.gguf")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="folder"):
        check_gguf_file(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.gguf"
    p.write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        check_gguf_file(p)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"hello, this is not a model\n" * 20, "text file"),
        (struct.pack("<Q", 60) + b'{"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}',
         "safetensors"),
        (b"PK\x03\x04" + b"\0" * 100, "ZIP"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "web page"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n", "Git LFS"),
        (b"\x80\x02}q\x00" + b"\0" * 50, "pickle"),
        (b"lmgg" + b"\0" * 50, "old GGML"),
        (bytes(range(256)) * 2, "not a GGUF"),
        (b"\x00\x01\x02", "not a GGUF"),
    ],
)  # fmt: skip
def test_not_gguf_says_what_it_looks_like(tmp_path: Path, content: bytes, words: str) -> None:
    p = tmp_path / "model.gguf"
    p.write_bytes(content)
    with pytest.raises(ModelFileError, match=words):
        check_gguf_file(p)


def test_unsupported_version(tmp_path: Path) -> None:
    p = tmp_path / "v1.gguf"
    write_gguf(p, GEMMA_META, TENSORS, version=1)
    with pytest.raises(ModelFileError, match="version 1"):
        check_gguf_file(p)


def test_big_endian(tmp_path: Path) -> None:
    p = tmp_path / "be.gguf"
    p.write_bytes(b"GGUF" + struct.pack(">I", 3) + b"\0" * 64)
    with pytest.raises(ModelFileError, match="big-endian"):
        check_gguf_file(p)


def test_no_tensors_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "vocab-only.gguf"
    write_gguf(p, GEMMA_META, [])
    assert read_gguf_info(p).tensor_count == 0
    with pytest.raises(ModelFileError, match="no model weights"):
        check_gguf_file(p)


def test_garbage_lengths_are_reported_as_corrupt(tmp_path: Path) -> None:
    p = tmp_path / "bad.gguf"
    p.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 1, 1) + struct.pack("<Q", 1 << 40) + b"k" * 64)
    with pytest.raises(ModelFileError, match="corrupt"):
        check_gguf_file(p)


def test_copy_with_metadata_drops_and_updates(gemma_like: Path, tmp_path: Path) -> None:
    src_info = read_gguf_info(gemma_like)
    dst = tmp_path / "copy.gguf"
    copy_with_metadata(
        gemma_like, dst, drop=("general.license",), update={"tokenizer.chat_template": "T"}
    )
    info = read_gguf_info(dst)
    assert info.license == "" and info.chat_template == "T"
    assert info.complete and info.tensor_count == src_info.tensor_count
    data_len = src_info.size_bytes - src_info.data_offset
    assert dst.read_bytes()[info.data_offset :] == gemma_like.read_bytes()[src_info.data_offset :]
    assert info.size_bytes - info.data_offset == data_len
