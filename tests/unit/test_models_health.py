"""An installed model is re-checked before it is loaded (size and mtime, else its sha256), and a
model whose answers are degenerate is refused at first use and no longer routed to.

Real catalog files and small real GGUFs (models.gguf.write_gguf); the engine is a ScriptedEngine
here, so the rule is tested on exact replies. The real SmolLM2 model through llama.cpp is in
tests/integration/test_models_catalog_real.py.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

import models.catalog as catalog_mod
from app.chat.engines import EngineManager, degenerate_reason
from app.cli import models as models_cli
from app.privacy.policy import Policy
from app.routing.router import Overrides, build_router
from models.catalog import ModelCatalog
from models.errors import DegenerateModelError, ModelChangedError
from models.fake import ScriptedEngine
from models.gguf import write_gguf
from models.types import ModelRecord

META: dict[str, object] = {
    "general.architecture": "qwen2",
    "general.name": "Tiny Qwen",
    "general.license": "apache-2.0",
    "general.file_type": 7,
    "qwen2.context_length": 4096,
    "tokenizer.ggml.tokens": ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "a"],
}


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("......", "only digits, punctuation"),
        (". . , ; ! ?", "only digits, punctuation"),
        ("12 34", "only digits"),
        ("the the the the the the", "one word"),
        ("Paris Paris Paris Paris Paris yes", "one word"),
        ("aaaaaaaaaaaaaaaaaaaa", "same piece"),
        ("abababababababababab", "same piece"),
        ("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!hi there", "same piece"),
    ],
)
def test_degenerate_replies(reply: str, words: str) -> None:
    assert words in degenerate_reason(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "The capital of France is Paris.",
        "Paris.",
        "Paris is the capital of France...",
        "Die Hauptstadt Frankreichs ist Paris.",
        "法国的首都是巴黎。",
        "ok ok ok yes no",
    ],
)
def test_usable_replies(reply: str) -> None:
    assert degenerate_reason(reply) == ""


def _catalog(tmp_path: Path, *names: str) -> ModelCatalog:
    catalog = ModelCatalog(tmp_path / "models", test_load=lambda path: None)
    for i, name in enumerate(names):
        src = tmp_path / "src" / f"{name}.gguf"
        src.parent.mkdir(parents=True, exist_ok=True)
        write_gguf(src, META, [("token_embd.weight", (32, 8 + i), 8)])
        domain = "legal" if name.startswith("law") else "general"
        catalog.import_file(src, domains=(domain,), model_id=name)
    return catalog


class Manager(EngineManager):
    """The real manager with llama.cpp's load replaced by a scripted engine per model."""

    def __init__(self, catalog: ModelCatalog, replies: dict[str, str]) -> None:
        super().__init__(catalog, n_ctx=2048, n_threads=1, n_gpu_layers=0)
        self.replies = replies
        self.opened: list[str] = []

    def _open(self, record: ModelRecord, path: Path, n_gpu_layers: int) -> ScriptedEngine:
        assert path.is_file()
        self.opened.append(record.id)
        return ScriptedEngine([self.replies[record.id]])


def _route(catalog: ModelCatalog, domain: str) -> str:
    router = build_router(
        embedder=lambda: pytest.fail("the embedder is not needed with a domain override"),
        catalog=catalog, loaded=lambda: [], policy=lambda: None,
        config_dir=catalog.models_dir, cache_dir=catalog.models_dir,
    )  # fmt: skip
    route = router.route(
        "What is the notice period?", workspace_id="w", support=0.9, n_sources=2,
        default_model="general-m", overrides=Overrides(domain=domain),
    )  # fmt: skip
    return route.model_id


def test_a_degenerate_model_is_refused_at_first_use_and_then_not_routed_to(
    tmp_path: Path,
) -> None:
    catalog = _catalog(tmp_path, "general-m", "law-m")
    manager = Manager(catalog, {"general-m": "The term is five years.", "law-m": ". . . . ."})
    assert _route(catalog, "legal") == "law-m"  # never probed: still a candidate
    with pytest.raises(DegenerateModelError) as error:
        manager.get("law-m")
    message = str(error.value)
    assert "law-m" in message and "degenerate" in message and "enclave models verify" in message
    assert manager.loaded() == []
    law = catalog.get("law-m")
    health = catalog.health(law)
    assert health is not None and health.status == "degenerate" and "punctuation" in health.reason
    assert [r.id for r in catalog.routable()] == ["general-m"]
    assert _route(catalog, "legal") == "general-m"  # the router no longer picks it
    with pytest.raises(DegenerateModelError):
        manager.get("law-m")  # refused from the catalog's verdict, without loading it again
    assert manager.opened == ["law-m"]
    entry = json.loads(catalog.catalog_file.read_text(encoding="utf-8"))["models"][1]
    assert entry["health"]["status"] == "degenerate" and entry["health"]["sha256"] == law.sha256


def test_a_healthy_model_is_probed_once_and_answers(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, "general-m")
    manager = Manager(catalog, {"general-m": "The capital of France is Paris."})
    engine = manager.get("general-m")
    assert isinstance(engine, ScriptedEngine) and len(engine.calls) == 1  # the probe question
    health = catalog.health(catalog.get("general-m"))
    assert health is not None and health.ok
    manager.unload("general-m")
    manager.get("general-m")
    assert manager.opened == ["general-m", "general-m"]
    again = manager.get("general-m")
    assert isinstance(again, ScriptedEngine) and again.calls == []  # not probed again


def test_models_verify_probes_again_and_clears_or_sets_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = _catalog(tmp_path, "general-m", "law-m")
    manager = Manager(catalog, {"general-m": "Paris is the capital.", "law-m": "the " * 12})
    enclave = SimpleNamespace(catalog=catalog, engines=manager, policy=Policy.closed())
    args = argparse.Namespace(model_id=None)
    assert models_cli.cmd_verify(args, enclave) == 1  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "    ok  general-m" in out
    assert "FAILED  law-m: its answers are degenerate (the reply repeated one word" in out
    assert [r.id for r in catalog.routable()] == ["general-m"]
    models_cli.cmd_list(argparse.Namespace(json=False), enclave)  # type: ignore[arg-type]
    assert "NOT USED: degenerate answers" in capsys.readouterr().out

    manager.replies["law-m"] = "The notice period is thirty days."  # e.g. a fixed file
    assert models_cli.cmd_verify(argparse.Namespace(model_id="law-m"), enclave) == 0  # type: ignore[arg-type]
    assert [r.id for r in catalog.routable()] == ["general-m", "law-m"]


def test_the_stored_hash_is_trusted_while_size_and_mtime_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _catalog(tmp_path, "general-m")
    record = catalog.get("general-m")
    hashed: list[Path] = []
    real_sha = catalog_mod.sha256_file

    def counting_sha(path: Path, progress: object = None) -> str:
        hashed.append(path)
        return real_sha(path)

    monkeypatch.setattr(catalog_mod, "sha256_file", counting_sha)
    path = catalog.checked_path(record)
    assert hashed == []  # the import stored the stamp: no hashing
    stamp = json.loads(catalog.catalog_file.read_text(encoding="utf-8"))["models"][0]["file_stamp"]
    assert stamp == {"size_bytes": path.stat().st_size, "mtime_ns": path.stat().st_mtime_ns}

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    assert catalog.checked_path(record) == path  # touched, same contents: hashed once, fine
    assert hashed == [path]
    catalog.checked_path(record)
    assert hashed == [path]  # the new stamp is trusted again


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_changed_file_is_refused_before_it_is_loaded(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, "general-m")
    manager = Manager(catalog, {"general-m": "Paris."})
    path = catalog.path_of(catalog.get("general-m"))
    _flip_a_byte(path)  # same size, new mtime
    with pytest.raises(ModelChangedError) as error:
        manager.get("general-m")
    message = str(error.value)
    assert "general-m" in message and "changed on disk" in message
    assert "enclave models verify" in message and "import" in message
    assert manager.opened == []  # never loaded
    with pytest.raises(ModelChangedError):  # and not trusted afterwards either
        catalog.checked_path(catalog.get("general-m"))


def test_a_change_that_keeps_size_and_mtime_is_caught_by_models_verify(tmp_path: Path) -> None:
    """The cheap check's limit: a same-size edit that restores the mtime is trusted at load;
    `enclave models verify` always hashes."""
    catalog = _catalog(tmp_path, "general-m")
    path = catalog.path_of(catalog.get("general-m"))
    before = path.stat()
    _flip_a_byte(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    (result,) = catalog.verify("general-m")
    assert not result.ok and "sha256 differs" in result.reason


def test_a_missing_file_and_an_old_catalog_without_stamps(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, "general-m", "other-m")
    data = json.loads(catalog.catalog_file.read_text(encoding="utf-8"))
    for entry in data["models"]:
        entry.pop("file_stamp")  # a catalog written before this check existed
    catalog.catalog_file.write_text(json.dumps(data), encoding="utf-8")
    record = catalog.get("general-m")
    catalog.checked_path(record)  # hashed once, then stamped
    stored = json.loads(catalog.catalog_file.read_text(encoding="utf-8"))["models"]
    assert "file_stamp" in stored[0] and "file_stamp" not in stored[1]
    catalog.path_of(catalog.get("other-m")).unlink()
    with pytest.raises(ModelChangedError, match=r"other-m\.gguf is missing"):
        catalog.checked_path(catalog.get("other-m"))


def test_set_domains_and_remove_keep_the_other_models_notes(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, "general-m", "law-m")
    catalog.set_health(catalog.get("law-m"), "degenerate", "the reply was empty")
    catalog.set_domains("law-m", ["legal", "general"])
    catalog.remove("general-m")
    law = catalog.get("law-m")
    health = catalog.health(law)
    assert health is not None and not health.ok and catalog.routable() == []
    entries: Sequence[dict[str, object]] = json.loads(
        catalog.catalog_file.read_text(encoding="utf-8")
    )["models"]
    assert [e["id"] for e in entries] == ["law-m"] and "file_stamp" in entries[0]
