"""A small pure-Python reader for GGUF headers (no llama_cpp import).

It reads the metadata and the tensor table, and computes how many bytes the tensor data needs,
so a truncated download is recognised before llama.cpp is asked to load it.
Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (versions 2 and 3).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from models.errors import ModelFileError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32

# GGUF metadata value types.
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL = range(8)
T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = 8, 9, 10, 11, 12
_SCALAR_FORMATS = {
    T_UINT8: "<B",
    T_INT8: "<b",
    T_UINT16: "<H",
    T_INT16: "<h",
    T_UINT32: "<I",
    T_INT32: "<i",
    T_FLOAT32: "<f",
    T_BOOL: "<?",
    T_UINT64: "<Q",
    T_INT64: "<q",
    T_FLOAT64: "<d",
}

# ggml tensor types: (elements per block, bytes per block), as ggml_blck_size/ggml_type_size say.
GGML_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
    39: (32, 17), 40: (64, 36), 41: (128, 18), 42: (64, 18),
}  # fmt: skip
GGML_TYPE_NAMES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4",
    41: "Q1_0", 42: "Q2_0",
}  # fmt: skip
# llama_ftype (general.file_type) -> the label people know from file names.
FILE_TYPE_LABELS: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}  # fmt: skip

# Special tokens whose presence in the vocabulary tells which chat format a model was trained on.
MARKER_TOKENS = frozenset(
    {
        "<|im_start|>", "<|im_end|>", "<start_of_turn>", "<end_of_turn>",
        "<|start_header_id|>", "<|eot_id|>", "[INST]", "[/INST]", "<|user|>", "<|assistant|>",
        "<|end|>", "<|system|>", "<|endoftext|>", "<|start|>", "<|message|>",
    }
)  # fmt: skip

_MAX_STRING = 64 * 1024 * 1024  # no sane metadata string is larger; a bigger one means garbage
_MAX_COUNT = 1 << 32


@dataclass(frozen=True)
class GGUFInfo:
    """What the header of a GGUF file says, and what the file needs to be complete."""

    path: Path
    version: int
    architecture: str
    name: str
    size_label: str
    context_length: int
    block_count: int
    chat_template: str | None
    file_type: int | None
    quantization: str
    license: str
    size_bytes: int
    tensor_count: int
    data_offset: int
    required_bytes: int
    bos_token: str
    eos_token: str
    marker_tokens: frozenset[str] = frozenset()
    metadata: dict[str, object] = field(default_factory=dict, repr=False)
    """Scalar metadata only (arrays such as the vocabulary are left out)."""

    @property
    def complete(self) -> bool:
        return self.size_bytes >= self.required_bytes


class _Truncated(Exception):
    pass


class _Reader:
    """Little-endian reads from a buffered binary file; EOF raises _Truncated."""

    def __init__(self, fh: BinaryIO, string_len_format: str = "<Q") -> None:
        self.fh = fh
        self.len_fmt = string_len_format
        self.len_size = struct.calcsize(string_len_format)

    def exact(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise _Truncated
        return data

    def unpack(self, fmt: str) -> object:
        return struct.unpack(fmt, self.exact(struct.calcsize(fmt)))[0]

    def u32(self) -> int:
        return int(struct.unpack("<I", self.exact(4))[0])

    def count(self) -> int:
        n = int(struct.unpack(self.len_fmt, self.exact(self.len_size))[0])
        if n > _MAX_COUNT:
            raise ModelFileError("the file's header is corrupt (an impossible count)")
        return n

    def string(self) -> str:
        n = self.count()
        if n > _MAX_STRING:
            raise ModelFileError("the file's header is corrupt (an impossible text length)")
        return self.exact(n).decode("utf-8", errors="replace")

    def value(self, vtype: int) -> object:
        if vtype == T_STRING:
            return self.string()
        fmt = _SCALAR_FORMATS.get(vtype)
        if fmt is None:
            raise ModelFileError(f"the file's header is corrupt (unknown value type {vtype})")
        return self.unpack(fmt)

    def array(self, keep: bool) -> list[object] | None:
        """Read an array; return it if `keep`, else skip it cheaply."""
        item_type = self.u32()
        n = self.count()
        fmt = _SCALAR_FORMATS.get(item_type)
        if fmt is not None:
            size = struct.calcsize(fmt) * n
            if not keep:
                self.skip(size)
                return None
            return list(struct.unpack(f"<{n}{fmt[1]}", self.exact(size)))
        if item_type == T_STRING:
            if keep:
                return [self.string() for _ in range(n)]
            for _ in range(n):
                self.skip(self.count())
            return None
        if item_type == T_ARRAY:
            for _ in range(n):
                self.array(keep=False)
            return None
        raise ModelFileError(f"the file's header is corrupt (unknown array type {item_type})")

    def skip(self, n: int) -> None:
        if n > _MAX_STRING * 64:
            raise ModelFileError("the file's header is corrupt (an impossible length)")
        self.exact(n)


def sniff_non_gguf(head: bytes) -> str:
    """A plain-words guess of what a non-GGUF file is, from its first bytes."""
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (perhaps a PyTorch checkpoint or a zipped download)"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file; unpack it first"
    if head[:4] in (b"lmgg", b"fmgg", b"tjgg"):
        return "an old GGML-format model, which llama.cpp no longer reads; get the GGUF version"
    if len(head) >= 9 and head[8:9] == b"{":
        n = int.from_bytes(head[:8], "little")
        if 2 <= n < 100_000_000:
            return "a safetensors file (unconverted model weights), not a GGUF model"
    if head.startswith(b"\x80") and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (a PyTorch checkpoint), not a GGUF model"
    text = head.lstrip()
    if text.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer (a small text file that stands for the real download)"
    lowered = text[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "a web page (HTML), not a model; the download probably saved an error or login page"
    if text.startswith((b"{", b"[")):
        return "a JSON text file, not a model"
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # allow a character cut at the end of the sample
        decoded = head[: exc.start].decode("utf-8") if exc.start >= len(head) - 3 else ""
    if decoded.strip() and all(c.isprintable() or c in "\r\n\t" for c in decoded):
        return "a text file, not a model"
    return "not a GGUF model (it does not start with the GGUF signature)"


def _incomplete(size: int, needed: int) -> ModelFileError:
    return ModelFileError(
        f"the file is incomplete: {size:,} bytes of {needed:,}; was the download interrupted?"
    )


def read_gguf_info(path: Path) -> GGUFInfo:
    """Read a GGUF file's header and tensor table. Raises ModelFileError in plain words."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"there is no file at {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file; choose the .gguf file inside")
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError("the file is empty (0 bytes); was the download interrupted?")
    try:
        with path.open("rb", buffering=1 << 20) as fh:
            return _read(fh, path, size)
    except _Truncated:
        raise ModelFileError(
            f"the file is incomplete: its header stops after {size:,} bytes; "
            "was the download interrupted?"
        ) from None
    except PermissionError:
        raise ModelFileError(f"the file cannot be read (permission denied): {path}") from None


def _read(fh: BinaryIO, path: Path, size: int) -> GGUFInfo:
    head = fh.read(8)
    if head[:4] != GGUF_MAGIC:
        raise ModelFileError(f"this is {sniff_non_gguf(head + fh.read(504))}")
    if len(head) < 8:
        raise _Truncated
    version = int.from_bytes(head[4:8], "little")
    if version not in SUPPORTED_VERSIONS:
        if int.from_bytes(head[4:8], "big") in SUPPORTED_VERSIONS:
            raise ModelFileError("this is a big-endian GGUF file, which this computer cannot use")
        raise ModelFileError(
            f"this GGUF file has format version {version}; only versions 2 and 3 are supported"
        )
    r = _Reader(fh)
    tensor_count = r.count()
    kv_count = r.count()
    meta: dict[str, object] = {}
    tokens: list[object] = []
    for _ in range(kv_count):
        key = r.string()
        vtype = r.u32()
        if vtype == T_ARRAY:
            arr = r.array(keep=key == "tokenizer.ggml.tokens")
            if arr is not None:
                tokens = arr
        else:
            meta[key] = r.value(vtype)
    alignment = _int(meta.get("general.alignment"), DEFAULT_ALIGNMENT) or DEFAULT_ALIGNMENT
    required_end = 0
    type_counts: dict[int, int] = {}
    for _ in range(tensor_count):
        r.skip(r.count())  # tensor name
        n_dims = r.u32()
        if n_dims > 8:
            raise ModelFileError("the file's tensor table is corrupt (impossible dimensions)")
        dims = [int(r.unpack("<Q")) for _ in range(n_dims)]  # type: ignore[call-overload]
        ggml_type = r.u32()
        offset = int(r.unpack("<Q"))  # type: ignore[call-overload]
        n_elements = 1
        for d in dims:
            n_elements *= d
        block, type_size = GGML_TYPE_SIZES.get(ggml_type, (1, 0))
        required_end = max(required_end, offset + (n_elements // block) * type_size)
        if n_dims >= 2:
            type_counts[ggml_type] = type_counts.get(ggml_type, 0) + n_elements
    header_end = fh.tell()
    data_offset = header_end + (-header_end % alignment)
    required = data_offset + required_end if tensor_count else header_end
    if size < required:
        raise _incomplete(size, required)
    return _info(
        path, version, size, tensor_count, data_offset, required, meta, tokens, type_counts
    )


def _int(value: object, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _token(tokens: list[object], index: object) -> str:
    i = _int(index, -1)
    return str(tokens[i]) if 0 <= i < len(tokens) else ""


def _info(
    path: Path,
    version: int,
    size: int,
    tensor_count: int,
    data_offset: int,
    required: int,
    meta: dict[str, object],
    tokens: list[object],
    type_counts: dict[int, int],
) -> GGUFInfo:
    arch = str(meta.get("general.architecture", "") or "")
    file_type = meta.get("general.file_type")
    ftype = _int(file_type, -1) if file_type is not None else None
    if ftype is not None and ftype in FILE_TYPE_LABELS:
        quant = FILE_TYPE_LABELS[ftype]
    elif type_counts:
        commonest = max(type_counts, key=lambda t: type_counts[t])
        quant = GGML_TYPE_NAMES.get(commonest, f"type {commonest}")
    else:
        quant = "unknown"
    template = meta.get("tokenizer.chat_template")
    markers = frozenset(t for t in tokens if isinstance(t, str) and t in MARKER_TOKENS)
    return GGUFInfo(
        path=path,
        version=version,
        architecture=arch,
        name=str(meta.get("general.name", "") or path.stem),
        size_label=str(meta.get("general.size_label", "") or ""),
        context_length=_int(meta.get(f"{arch}.context_length")),
        block_count=_int(meta.get(f"{arch}.block_count")),
        chat_template=template if isinstance(template, str) and template.strip() else None,
        file_type=ftype,
        quantization=quant,
        license=str(meta.get("general.license", "") or ""),
        size_bytes=size,
        tensor_count=tensor_count,
        data_offset=data_offset,
        required_bytes=required,
        bos_token=_token(tokens, meta.get("tokenizer.ggml.bos_token_id")),
        eos_token=_token(tokens, meta.get("tokenizer.ggml.eos_token_id")),
        marker_tokens=markers,
        metadata=meta,
    )


def check_gguf_file(path: Path) -> GGUFInfo:
    """Check that `path` is a complete GGUF model llama.cpp can be asked to load.

    Raises ModelFileError saying why not: missing, a folder, empty, not GGUF (and what it looks
    like), an unsupported version, no tensors, or truncated.
    """
    info = read_gguf_info(path)
    if info.tensor_count == 0:
        raise ModelFileError("this GGUF file holds no model weights (no tensors)")
    if not info.architecture:
        raise ModelFileError("this GGUF file does not say which model architecture it is")
    return info


# -- writing (tests, and re-labelling a model's metadata) -----------------------------------


def encode_string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def encode_kv(key: str, value: object) -> bytes:
    """One metadata entry: str -> STRING, bool -> BOOL, int -> UINT32/UINT64, float -> FLOAT32,
    list[str] -> ARRAY of STRING."""
    out = encode_string(key)
    if isinstance(value, bool):
        return out + struct.pack("<I?", T_BOOL, value)
    if isinstance(value, str):
        return out + struct.pack("<I", T_STRING) + encode_string(value)
    if isinstance(value, int):
        if 0 <= value < 1 << 32:
            return out + struct.pack("<II", T_UINT32, value)
        return out + struct.pack("<Iq", T_INT64, value)
    if isinstance(value, float):
        return out + struct.pack("<If", T_FLOAT32, value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = b"".join(encode_string(v) for v in value)
        return out + struct.pack("<IIQ", T_ARRAY, T_STRING, len(value)) + items
    raise TypeError(f"cannot encode {type(value).__name__} for {key}")


def _scan_entries(src: Path) -> tuple[int, list[tuple[str, int, int]], int, int, int]:
    """(tensor_count, [(key, start, end)], tensor_table_start, tensor_table_end, data_offset)."""
    info = read_gguf_info(src)
    entries: list[tuple[str, int, int]] = []
    with src.open("rb", buffering=1 << 20) as fh:
        fh.seek(8)
        r = _Reader(fh)
        tensor_count = r.count()
        kv_count = r.count()
        for _ in range(kv_count):
            start = fh.tell()
            key = r.string()
            vtype = r.u32()
            if vtype == T_ARRAY:
                r.array(keep=False)
            else:
                r.value(vtype)
            entries.append((key, start, fh.tell()))
        table_start = fh.tell()
        for _ in range(tensor_count):
            r.skip(r.count())
            r.skip(8 * r.u32())
            r.skip(12)
        table_end = fh.tell()
    return tensor_count, entries, table_start, table_end, info.data_offset


def copy_with_metadata(
    src: Path, dst: Path, *, drop: tuple[str, ...] = (), update: dict[str, object] | None = None
) -> None:
    """Write a copy of the GGUF `src` to `dst` with metadata keys dropped or replaced.

    Tensor data is copied byte for byte; only the header changes. Used by tests (for example a
    model without its chat template) and to relabel a file's metadata.
    """
    update = dict(update or {})
    tensor_count, entries, t_start, t_end, data_offset = _scan_entries(src)
    with src.open("rb") as fin:
        header = fin.read(8)
        kept: list[bytes] = []
        for key, start, end in entries:
            if key in drop or key in update:
                continue
            fin.seek(start)
            kept.append(fin.read(end - start))
        kept.extend(encode_kv(k, v) for k, v in update.items())
        fin.seek(t_start)
        table = fin.read(t_end - t_start)
        alignment = DEFAULT_ALIGNMENT
        for key, _start, end in entries:
            if key == "general.alignment":
                fin.seek(end - 4)
                alignment = int.from_bytes(fin.read(4), "little")
        with dst.open("wb") as fout:
            fout.write(header + struct.pack("<QQ", tensor_count, len(kept)))
            for blob in kept:
                fout.write(blob)
            fout.write(table)
            fout.write(b"\0" * (-fout.tell() % alignment))
            fin.seek(data_offset)
            while chunk := fin.read(1 << 20):
                fout.write(chunk)


def write_gguf(
    path: Path,
    metadata: dict[str, object],
    tensors: Sequence[tuple[str, Sequence[int], int]] = (("weight", (32, 2), 0),),
    *,
    version: int = 3,
) -> int:
    """Write a small GGUF file (zero-filled tensors) for tests; returns its full size in bytes.

    `tensors`: (name, dims, ggml type) triples. Not a model llama.cpp can run: a header to test
    readers, importers and refusals with.
    """
    kvs = b"".join(encode_kv(k, v) for k, v in metadata.items())
    table = b""
    offset = 0
    for name, dims, ggml_type in tensors:
        table += encode_string(name) + struct.pack("<I", len(dims))
        table += b"".join(struct.pack("<Q", d) for d in dims)
        table += struct.pack("<IQ", ggml_type, offset)
        n = 1
        for d in dims:
            n *= d
        block, type_size = GGML_TYPE_SIZES[ggml_type]
        size = n // block * type_size
        offset += size + (-size % DEFAULT_ALIGNMENT)
    head = GGUF_MAGIC + struct.pack("<IQQ", version, len(tensors), len(metadata)) + kvs + table
    head += b"\0" * (-len(head) % DEFAULT_ALIGNMENT)
    with Path(path).open("wb") as fh:
        fh.write(head)
        fh.write(b"\0" * offset)
    return len(head) + offset
