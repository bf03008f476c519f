"""ModelCatalog with small synthetic GGUF files and a stand-in loader (no llama.cpp here).

The real loader and the real model are exercised in tests/integration/test_models_catalog_real.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import models.catalog as catalog_mod
from models.catalog import ModelCatalog
from models.errors import (
    CatalogError,
    ChecksumMismatchError,
    ModelAlreadyInstalledError,
    ModelFileError,
    ModelLoadError,
)
from models.gguf import write_gguf

META: dict[str, object] = {
    "general.architecture": "qwen2",
    "general.name": "Tiny Qwen",
    "general.license": "apache-2.0",
    "general.size_label": "0.5B",
    "general.file_type": 7,
    "qwen2.context_length": 32768,
    "tokenizer.ggml.tokens": ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a"],
}


class Loader:
    """Stands in for llama.cpp's test load; records calls, can be told to fail."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[Path] = []
        self.fail = fail

    def __call__(self, path: Path) -> None:
        self.calls.append(path)
        assert path.exists()
        if self.fail:
            raise ModelLoadError(f"llama.cpp cannot load this model: {self.fail}")


def make_model(folder: Path, name: str = "tiny-qwen.Q8_0.gguf", **meta: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    write_gguf(path, {**META, **meta}, [("token_embd.weight", (32, 64), 8)])
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


@pytest.fixture()
def loader() -> Loader:
    return Loader()


@pytest.fixture()
def cat(tmp_path: Path, loader: Loader) -> ModelCatalog:
    return ModelCatalog(tmp_path / "models", test_load=loader)


def test_import_copies_hashes_loads_and_records(cat: ModelCatalog, loader: Loader, tmp_path: Path):
    src = make_model(tmp_path / "downloads")
    seen: list[tuple[int, int]] = []
    rec = cat.import_file(src, domains=("legal",), progress=lambda d, t: seen.append((d, t)))
    assert rec.id == "tiny-qwen.q8_0"
    assert rec.sha256 == sha(src)
    assert rec.size_bytes == src.stat().st_size
    assert (rec.architecture, rec.quantization, rec.context_length) == ("qwen2", "Q8_0", 32768)
    assert rec.chat_format == "chatml"  # no template in the file, known from its tokens
    assert rec.domains == ["legal"] and rec.licence == "apache-2.0" and rec.source == "user"
    assert rec.parameters == "0.5B"
    assert cat.path_of(rec).read_bytes() == src.read_bytes()
    assert seen[-1] == (src.stat().st_size, src.stat().st_size)
    assert len(loader.calls) == 1
    assert cat.list() == [rec] and cat.get(rec.id) == rec
    stored = json.loads(cat.catalog_file.read_text())
    assert stored["models"][0]["sha256"] == rec.sha256
    assert sorted(p.name for p in cat.models_dir.iterdir()) == ["catalog.json", f"{rec.id}.gguf"]


def test_import_with_explicit_id_licence_and_format(cat: ModelCatalog, tmp_path: Path) -> None:
    src = make_model(tmp_path / "dl")
    rec = cat.import_file(src, licence="CC-BY-4.0", model_id="my-model", chat_format="gemma")
    assert (rec.id, rec.licence, rec.chat_format) == ("my-model", "CC-BY-4.0", "gemma")


def _bad_file(folder: Path, kind: str) -> Path:
    if kind == "folder":
        return folder
    path = folder / f"{kind}.gguf"
    path.write_bytes(b"" if kind == "empty" else b"hello, these are notes\n" * 40)
    return path


@pytest.mark.parametrize(
    ("kind", "words"), [("empty", "empty"), ("text", "text"), ("folder", "folder")]
)
def test_bad_files_are_refused_and_nothing_is_left(cat, tmp_path: Path, kind, words) -> None:
    make_model(tmp_path / "dl", "good.gguf")
    cat.import_file(tmp_path / "dl" / "good.gguf")
    before = snapshot(cat.models_dir)
    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(ModelFileError, match=words):
        cat.import_file(_bad_file(bad, kind))
    assert snapshot(cat.models_dir) == before


def test_truncated_file_is_refused_before_copying(cat: ModelCatalog, loader, tmp_path) -> None:
    src = make_model(tmp_path / "dl")
    data = src.read_bytes()
    src.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(ModelFileError, match="incomplete"):
        cat.import_file(src)
    assert loader.calls == [] and snapshot(cat.models_dir) == {}


def test_load_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    loader = Loader(fail="tensor 'x' data is not within the file bounds")
    cat = ModelCatalog(tmp_path / "models", test_load=loader)
    with pytest.raises(ModelLoadError, match="not within the file bounds"):
        cat.import_file(make_model(tmp_path / "dl"))
    assert loader.calls and not loader.calls[0].exists()
    assert snapshot(cat.models_dir) == {}


def test_unknown_architecture_without_template_is_refused(cat, loader, tmp_path) -> None:
    src = make_model(tmp_path / "dl", **{"general.architecture": "mamba"})
    src2 = tmp_path / "dl" / "m.gguf"
    write_gguf(src2, {"general.architecture": "mamba"}, [("w", (32, 2), 0)])
    with pytest.raises(ModelFileError, match=r"no chat template.*'mamba'.*choose a chat format"):
        cat.import_file(src2)
    assert loader.calls == [] and snapshot(cat.models_dir) == {}
    assert cat.import_file(src, chat_format="chatml").chat_format == "chatml"


def test_same_file_twice_and_same_id_are_refused(cat: ModelCatalog, tmp_path: Path) -> None:
    src = make_model(tmp_path / "dl")
    first = cat.import_file(src)
    with pytest.raises(ModelAlreadyInstalledError, match=f"already installed as '{first.id}'"):
        cat.import_file(src, model_id="other-id")
    other = make_model(tmp_path / "dl2", **{"general.name": "different"})
    with pytest.raises(ModelAlreadyInstalledError, match=r"id 'tiny-qwen\.q8_0'"):
        cat.import_file(other)
    assert [r.id for r in cat.list()] == [first.id]


def test_invalid_id_and_domain(cat: ModelCatalog, tmp_path: Path) -> None:
    src = make_model(tmp_path / "dl")
    with pytest.raises(ModelFileError, match="cannot be a model id"):
        cat.import_file(src, model_id="../evil")
    with pytest.raises(ModelFileError, match="unknown domain 'cooking'"):
        cat.import_file(src, domains=("cooking",))


def test_verify_detects_changes(cat: ModelCatalog, tmp_path: Path) -> None:
    rec = cat.import_file(make_model(tmp_path / "dl"))
    assert [(r.model_id, r.ok) for r in cat.verify()] == [(rec.id, True)]
    path = cat.path_of(rec)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    (result,) = cat.verify(rec.id)
    assert not result.ok and "sha256 differs" in result.reason
    assert result.actual_sha256 != rec.sha256
    path.write_bytes(bytes(data[:-10]))
    assert "size changed" in cat.verify(rec.id)[0].reason
    path.unlink()
    assert "missing" in cat.verify(rec.id)[0].reason


def test_remove_and_get(cat: ModelCatalog, tmp_path: Path) -> None:
    rec = cat.import_file(make_model(tmp_path / "dl"))
    cat.remove(rec.id)
    assert cat.list() == [] and not cat.path_of(rec).exists()
    with pytest.raises(CatalogError, match=r"no model 'tiny-qwen\.q8_0' is installed"):
        cat.get(rec.id)
    with pytest.raises(CatalogError):
        cat.remove(rec.id)


def test_set_domains(cat: ModelCatalog, tmp_path: Path) -> None:
    rec = cat.import_file(make_model(tmp_path / "dl"))
    assert cat.set_domains(rec.id, ["Clinical", "legal"]).domains == ["clinical", "legal"]
    assert cat.get(rec.id).domains == ["clinical", "legal"]
    with pytest.raises(ModelFileError, match="at least one domain"):
        cat.set_domains(rec.id, [])


def test_ensure_embedded_is_idempotent_and_checks_sha(tmp_path: Path, loader: Loader) -> None:
    cat = ModelCatalog(tmp_path / "models", test_load=loader)
    src = make_model(tmp_path / "pkg", "SmolLM2-135M-Instruct.Q4_1.gguf")
    with pytest.raises(ChecksumMismatchError, match="not the expected file"):
        cat.ensure_embedded(src, "0" * 64)
    assert snapshot(cat.models_dir) == {}
    rec = cat.ensure_embedded(src, sha(src))
    assert (rec.id, rec.source, rec.licence) == ("smollm2-135m-instruct", "embedded", "Apache-2.0")
    mtime = cat.path_of(rec).stat().st_mtime_ns
    assert cat.ensure_embedded(src, sha(src)) == rec
    assert cat.path_of(rec).stat().st_mtime_ns == mtime  # not copied again
    with pytest.raises(ModelFileError, match="built-in model and cannot be removed"):
        cat.remove(rec.id)
    cat.path_of(rec).unlink()  # a lost file is restored
    assert cat.ensure_embedded(src, sha(src)).sha256 == rec.sha256
    assert cat.path_of(rec).is_file()


def test_failed_save_keeps_the_old_catalog(cat, tmp_path, monkeypatch) -> None:
    cat.import_file(make_model(tmp_path / "dl"))
    before = snapshot(cat.models_dir)

    def broken_dump(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(catalog_mod.json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        cat.import_file(make_model(tmp_path / "dl2", **{"general.name": "n2"}), model_id="two")
    assert snapshot(cat.models_dir) == before


def test_damaged_catalog_is_reported_and_left_alone(cat: ModelCatalog) -> None:
    cat.models_dir.mkdir(parents=True)
    cat.catalog_file.write_text('{"models": [ {"id": ')
    with pytest.raises(CatalogError, match="damaged"):
        cat.list()
    assert cat.catalog_file.read_text() == '{"models": [ {"id": '


def test_entry_pointing_outside_the_folder_is_refused(cat, tmp_path: Path) -> None:
    rec = cat.import_file(make_model(tmp_path / "dl"))
    data = json.loads(cat.catalog_file.read_text())
    data["models"][0]["file"] = "../../etc/passwd"
    cat.catalog_file.write_text(json.dumps(data))
    with pytest.raises(CatalogError, match="outside"):
        cat.path_of(cat.get(rec.id))


def _manifest(folder: Path, entries: list[dict[str, object]]) -> None:
    (folder / "manifest.json").write_text(json.dumps({"models": entries}))


def test_import_manifest(cat: ModelCatalog, tmp_path: Path) -> None:
    roll = tmp_path / "rollout"
    a = make_model(roll, "a.gguf", **{"general.name": "a"})
    b = make_model(roll, "b.gguf", **{"general.name": "b"})
    _manifest(roll, [
        {"file": "a.gguf", "sha256": sha(a), "domains": ["legal"], "licence": "L-A"},
        {"file": "b.gguf", "sha256": sha(b), "domains": "clinical", "id": "bee"},
    ])  # fmt: skip
    recs = cat.import_manifest(roll)
    assert [(r.id, r.source, r.domains) for r in recs] == [
        ("a", "organisation", ["legal"]),
        ("bee", "organisation", ["clinical"]),
    ]
    assert [r.id for r in cat.import_manifest(roll)] == ["a", "bee"]  # idempotent


def test_manifest_mismatch_is_named_and_nothing_is_installed(cat, tmp_path: Path) -> None:
    roll = tmp_path / "rollout"
    a = make_model(roll, "a.gguf", **{"general.name": "a"})
    make_model(roll, "b.gguf", **{"general.name": "b"})
    _manifest(roll, [{"file": "a.gguf", "sha256": sha(a)}, {"file": "b.gguf", "sha256": "ab" * 32}])
    with pytest.raises(ChecksumMismatchError, match=r"b\.gguf is not the expected file"):
        cat.import_manifest(roll)
    assert cat.list() == []
    assert [p.name for p in cat.models_dir.iterdir()] == ["catalog.json"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "cannot be read"),
        ('{"models": []}', "non-empty"),
        ('{"models": [{"file": "../x.gguf", "sha256": "' + "a" * 64 + '"}]}', "file name"),
        ('{"models": [{"file": "x.gguf", "sha256": "123"}]}', "no valid sha256"),
    ],
)
def test_bad_manifests(cat: ModelCatalog, tmp_path: Path, content: str, words: str) -> None:
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(ModelFileError, match=words):
        cat.import_manifest(tmp_path)
