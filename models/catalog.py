"""The catalog of installed local models: `catalog.json` beside the GGUF files in `models_dir`.

Importing a model is all or nothing: header check -> copy while hashing -> test-load with
llama.cpp's log captured -> chat format resolved -> catalog saved (tmp file + os.replace).
On any failure nothing is left behind and the catalog is unchanged.
All methods run on the caller's thread; `progress(done, total)` is called on that thread too.

Besides each ModelRecord, a model's entry in catalog.json keeps what Enclave learnt about its file:
`file_stamp` (size and mtime when its sha256 was last confirmed: `checked_path()` trusts the
stored hash while they match, and hashes the file again when they do not) and `health` (the
verdict of the degenerate-reply probe for that sha256; `routable()` leaves degenerate models out).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.chat_format import resolve_chat_format
from models.errors import (
    CatalogError,
    ChecksumMismatchError,
    ModelAlreadyInstalledError,
    ModelChangedError,
    ModelFileError,
    ModelLoadError,
)
from models.gguf import GGUFInfo, check_gguf_file
from models.types import ModelRecord

Progress = Callable[[int, int], None]
TestLoad = Callable[[Path], None]

CATALOG_FILE = "catalog.json"
MANIFEST_FILE = "manifest.json"
KNOWN_DOMAINS = ("general", "clinical", "legal")
_CHUNK = 8 * 1024 * 1024
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_EXTRA_KEYS = ("file_stamp", "health")  # kept in a model's catalog entry beside its record
HealthStatus = Literal["ok", "degenerate"]


Records = list[ModelRecord]  # aliases: inside ModelCatalog, `list` is the method


@dataclass(frozen=True)
class VerifyResult:
    model_id: str
    ok: bool
    reason: str  # "ok", or what is wrong, in words
    expected_sha256: str
    actual_sha256: str | None = None


VerifyResults = list[VerifyResult]
Extras = dict[str, dict[str, Any]]  # model id -> {"file_stamp": {...}, "health": {...}}


@dataclass(frozen=True)
class Health:
    """The degenerate-reply probe's verdict on one model file (its sha256)."""

    status: HealthStatus
    reason: str  # "" when ok; what was wrong with the reply, in words
    sha256: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def llama_test_load(path: Path) -> None:
    """Load `path` with llama.cpp (CPU, tiny context) and free it again; raise ModelLoadError
    with llama.cpp's own reason ("invalid magic characters", "... not within the file bounds")
    instead of its bare "Failed to load model"."""
    import llama_cpp

    from models import llama_log, quiet

    with llama_log.capture() as lines, quiet.muted_here():  # verbose=False: see models.quiet
        try:
            llm = llama_cpp.Llama(str(path), n_ctx=256, n_threads=1, n_gpu_layers=0, verbose=True)
        except Exception as exc:
            reason = llama_log.explain(lines) or str(exc)
            raise ModelLoadError(
                f"llama.cpp cannot load this model: {reason}",
                tuple(line.rstrip() for _, line in lines),
            ) from None
    llm.close()


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def slug(text: str) -> str:
    """A catalog id from a file name: lower case letters, digits, '.', '_' and '-'."""
    s = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return s[:64].rstrip("-._") or "model"


def normalize_domains(domains: Iterable[str]) -> list[str]:
    out: list[str] = []
    for d in domains:
        name = d.strip().lower()
        if name not in KNOWN_DOMAINS:
            known = ", ".join(KNOWN_DOMAINS)
            raise ModelFileError(f"unknown domain {d!r}; choose from: {known}")
        if name not in out:
            out.append(name)
    if not out:
        raise ModelFileError(f"choose at least one domain ({', '.join(KNOWN_DOMAINS)})")
    return out


class ModelCatalog:
    def __init__(self, models_dir: Path, *, test_load: TestLoad | None = None) -> None:
        self.models_dir = Path(models_dir)
        self.catalog_file = self.models_dir / CATALOG_FILE
        self._test_load = test_load or llama_test_load
        self._lock = threading.RLock()

    # -- reading -----------------------------------------------------------------------------
    def _load(self) -> list[ModelRecord]:
        return self._read()[0]

    def _read(self) -> tuple[list[ModelRecord], Extras]:
        """The records and, per model id, what the catalog learnt about the file."""
        try:
            raw = self.catalog_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], {}
        except OSError as exc:
            raise CatalogError(
                f"the model catalog {self.catalog_file} cannot be read: {exc}"
            ) from None
        try:
            data = json.loads(raw)
            names = {f.name for f in dataclasses.fields(ModelRecord)}
            records = [
                ModelRecord(**{k: v for k, v in m.items() if k in names}) for m in data["models"]
            ]
            extras = {
                m["id"]: {k: m[k] for k in _EXTRA_KEYS if isinstance(m.get(k), dict)}
                for m in data["models"]
            }
            return records, extras
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CatalogError(
                f"the model catalog {self.catalog_file} is damaged ({exc}); it was left as it "
                "is. Move it aside and import the models again."
            ) from None

    def _save(self, records: Sequence[ModelRecord], extras: Extras | None = None) -> None:
        """Write the catalog atomically; `extras` default to those already on disk."""
        if extras is None:
            extras = self._read()[1]
        self.models_dir.mkdir(parents=True, exist_ok=True)
        entries = [{**dataclasses.asdict(r), **extras.get(r.id, {})} for r in records]
        data = {"format": 1, "models": entries}
        tmp = self.catalog_file.with_name(f".{CATALOG_FILE}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.catalog_file)
        finally:
            tmp.unlink(missing_ok=True)

    def list(self) -> list[ModelRecord]:
        with self._lock:
            return self._load()

    def get(self, model_id: str) -> ModelRecord:
        for record in self.list():
            if record.id == model_id:
                return record
        ids = ", ".join(r.id for r in self.list()) or "none"
        raise CatalogError(f"no model {model_id!r} is installed (installed: {ids})")

    def path_of(self, record: ModelRecord) -> Path:
        path = (self.models_dir / record.file).resolve()
        if path.parent != self.models_dir.resolve():
            raise CatalogError(f"the catalog entry {record.id!r} points outside the models folder")
        return path

    def routable(self) -> Records:
        """The models questions may be routed to: all but those whose file gave degenerate
        replies (the verdict holds for that sha256 until `enclave models verify` probes again)."""
        with self._lock:
            records, extras = self._read()
        return [r for r in records if not _is_degenerate(r, extras.get(r.id, {}))]

    def health(self, record: ModelRecord) -> Health | None:
        """The probe's verdict on this record's file, or None when it was never probed."""
        with self._lock:
            raw = self._read()[1].get(record.id, {}).get("health")
        if (
            not raw
            or raw.get("sha256") != record.sha256
            or raw.get("status") not in ("ok", "degenerate")
        ):
            return None
        return Health(raw["status"], str(raw.get("reason", "")), record.sha256)

    def set_health(self, record: ModelRecord, status: HealthStatus, reason: str = "") -> Health:
        """Store the probe's verdict on this record's file."""
        health = Health(status, reason, record.sha256)
        self._set_extra(record.id, "health", dataclasses.asdict(health))
        return health

    def checked_path(self, record: ModelRecord) -> Path:
        """The model's file, confirmed to be the one imported, before it is loaded.

        Cheap when the file's size and mtime are those stored when its sha256 was last
        confirmed; otherwise the file is hashed again. Raises ModelChangedError (naming the
        model, saying what to do) when the file is missing or its contents changed.
        """
        path = self.path_of(record)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise ModelChangedError(_changed_message(record, path, "is missing")) from None
        stamp = _stamp(stat)
        with self._lock:
            known = self._read()[1].get(record.id, {}).get("file_stamp")
        if known == stamp and stat.st_size == record.size_bytes:
            return path
        if stat.st_size != record.size_bytes or sha256_file(path) != record.sha256:
            raise ModelChangedError(_changed_message(record, path, "changed on disk"))
        self._set_extra(record.id, "file_stamp", stamp)
        return path

    def _set_extra(self, model_id: str, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            records, extras = self._read()
            if not any(r.id == model_id for r in records):
                return  # removed meanwhile: nothing to note
            if extras.get(model_id, {}).get(key) == value:
                return
            extras.setdefault(model_id, {})[key] = value
            self._save(records, extras)

    # -- changing ----------------------------------------------------------------------------
    def import_file(
        self,
        path: Path,
        domains: Sequence[str] = ("general",),
        licence: str | None = None,
        source: str = "user",
        model_id: str | None = None,
        progress: Progress | None = None,
        *,
        chat_format: str | None = None,
        expected_sha256: str | None = None,
    ) -> ModelRecord:
        """Check, copy, test-load and register a GGUF file; return its catalog record.

        Raises ModelFileError (or a subclass) saying why the file is refused; nothing is left
        behind then. `chat_format` overrides the format found in or guessed for the file.
        """
        return self._import(
            Path(path), domains, licence, source, model_id, progress, chat_format, expected_sha256
        )

    def _import(
        self,
        src: Path,
        domains: Sequence[str],
        licence: str | None,
        source: str,
        model_id: str | None,
        progress: Progress | None,
        chat_format: str | None,
        expected_sha256: str | None,
        test_load: bool = True,
    ) -> ModelRecord:
        info = check_gguf_file(src)
        doms = normalize_domains(domains)
        new_id = model_id or slug(src.name.removesuffix(".gguf"))
        if not _ID_RE.match(new_id):
            raise ModelFileError(
                f"{new_id!r} cannot be a model id: use up to 64 lower-case letters, digits, "
                "'.', '_' or '-'"
            )
        fmt = resolve_chat_format(info, chat_format)  # refuse early, before copying gigabytes
        with self._lock:
            if any(r.id == new_id for r in self._load()):
                raise ModelAlreadyInstalledError(
                    f"a model with the id {new_id!r} is already installed; choose another id",
                    new_id,
                )
        self._check_space(info.size_bytes)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.models_dir / f".{new_id}.{uuid.uuid4().hex}.part"
        dest = self.models_dir / f"{new_id}.gguf"
        try:
            digest = _copy_hashing(src, tmp, progress)
            if expected_sha256 and digest != expected_sha256.lower():
                raise ChecksumMismatchError(
                    f"{src.name} is not the expected file: its sha256 is {digest}, "
                    f"expected {expected_sha256.lower()}"
                )
            if tmp.stat().st_size != info.size_bytes:
                raise ModelFileError(f"{src.name} changed while it was being copied; try again")
            if test_load:
                self._test_load(tmp)
            with self._lock:
                records = self._load()
                for r in records:
                    if r.sha256 == digest:
                        raise ModelAlreadyInstalledError(
                            f"this model is already installed as {r.id!r}", r.id
                        )
                    if r.id == new_id:
                        raise ModelAlreadyInstalledError(
                            f"a model with the id {new_id!r} is already installed", new_id
                        )
                record = _record(new_id, dest.name, digest, info, fmt, doms, licence, source)
                os.replace(tmp, dest)
                try:
                    extras = self._read()[1]
                    extras[new_id] = {"file_stamp": _stamp(dest.stat())}
                    self._save([*records, record], extras)
                except BaseException:
                    dest.unlink(missing_ok=True)
                    raise
            return record
        finally:
            tmp.unlink(missing_ok=True)

    def _check_space(self, size: int) -> None:
        probe = self.models_dir if self.models_dir.exists() else self.models_dir.parent
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        if free < size + 64 * 1024 * 1024:
            raise ModelFileError(
                f"not enough disk space: the model needs {size / 1e9:.2f} GB and "
                f"{free / 1e9:.2f} GB are free in {self.models_dir}"
            )

    def remove(self, model_id: str) -> None:
        """Remove a model from the catalog, then its file. The built-in model cannot be removed."""
        with self._lock:
            records = self._load()
            record = next((r for r in records if r.id == model_id), None)
            if record is None:
                self.get(model_id)  # raises KeyError naming the installed ids
                return
            if record.source == "embedded":
                raise ModelFileError(f"{model_id!r} is the built-in model and cannot be removed")
            path = self.path_of(record)
            self._save([r for r in records if r.id != model_id])
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    def set_domains(self, model_id: str, domains: Sequence[str]) -> ModelRecord:
        doms = normalize_domains(domains)
        with self._lock:
            records = self._load()
            for i, r in enumerate(records):
                if r.id == model_id:
                    records[i] = dataclasses.replace(r, domains=doms)
                    self._save(records)
                    return records[i]
        raise CatalogError(f"no model {model_id!r} is installed")

    # -- checking ----------------------------------------------------------------------------
    def verify(
        self, model_id: str | None = None, progress: Progress | None = None
    ) -> VerifyResults:
        """Re-hash installed files and compare with the catalog."""
        records = [self.get(model_id)] if model_id else self.list()
        return [self._verify_one(r, progress) for r in records]

    def _verify_one(self, r: ModelRecord, progress: Progress | None) -> VerifyResult:
        path = self.path_of(r)
        if not path.is_file():
            return VerifyResult(r.id, False, f"the file {path.name} is missing", r.sha256)
        stat = path.stat()
        size = stat.st_size
        if size != r.size_bytes:
            return VerifyResult(
                r.id, False, f"the file size changed ({size:,} bytes, expected {r.size_bytes:,})",
                r.sha256,
            )  # fmt: skip
        actual = sha256_file(path, progress)
        if actual != r.sha256:
            return VerifyResult(
                r.id, False, "the file's contents changed (sha256 differs); import it again",
                r.sha256, actual,
            )  # fmt: skip
        self._set_extra(r.id, "file_stamp", _stamp(stat))  # confirmed: loads trust it again
        return VerifyResult(r.id, True, "ok", r.sha256, actual)

    # -- embedded and organisation models ----------------------------------------------------
    def ensure_embedded(
        self,
        gguf: Path,
        sha256: str,
        model_id: str = "smollm2-135m-instruct",
        licence: str = "Apache-2.0",
        domains: Sequence[str] = ("general",),
    ) -> ModelRecord:
        """Register the built-in model (copied from its package) unless it is already there.

        Idempotent and cheap when installed (no re-hash; `verify` does that). The source file is
        hashed while copied and refused if its sha256 is not `sha256`.
        """
        with self._lock:
            existing = next((r for r in self._load() if r.id == model_id), None)
            if existing is not None:
                path = self.path_of(existing)
                if (
                    existing.sha256 == sha256.lower()
                    and path.is_file()
                    and path.stat().st_size == existing.size_bytes
                ):
                    return existing
                self._save([r for r in self._load() if r.id != model_id])  # stale: replace it
                path.unlink(missing_ok=True)
            return self._import(
                Path(gguf), domains, licence, "embedded", model_id, None, None, sha256,
                test_load=False,
            )  # fmt: skip

    def import_manifest(self, folder: Path, progress: Progress | None = None) -> Records:
        """Install the models an organisation lists in `folder/manifest.json`, all or none.

        The manifest: {"models": [{"file": "x.gguf", "sha256": "...", "domains": ["legal"],
        "licence": "...", "id": optional, "chat_format": optional}]}. A file whose sha256 differs
        is refused and named; models already installed with the same sha256 are kept as they are.
        """
        entries = _read_manifest(Path(folder))
        done: list[ModelRecord] = []
        added: list[str] = []
        try:
            for e in entries:
                installed = next((r for r in self.list() if r.sha256 == e["sha256"]), None)
                if installed is not None:
                    done.append(installed)
                    continue
                try:
                    rec = self._import(
                        Path(folder) / e["file"], e["domains"], e.get("licence"), "organisation",
                        e.get("id"), progress, e.get("chat_format"), e["sha256"],
                    )  # fmt: skip
                except ModelFileError as exc:
                    if e["file"] in str(exc):
                        raise
                    raise ModelFileError(f"{e['file']}: {exc}") from exc
                done.append(rec)
                added.append(rec.id)
        except BaseException:
            for model_id in added:  # all or none
                with contextlib.suppress(Exception):
                    self.remove(model_id)
            raise
        return done


def _stamp(stat: os.stat_result) -> dict[str, int]:
    return {"size_bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _is_degenerate(record: ModelRecord, extra: dict[str, Any]) -> bool:
    health = extra.get("health") or {}
    return health.get("status") == "degenerate" and health.get("sha256") == record.sha256


def _changed_message(record: ModelRecord, path: Path, what: str) -> str:
    """A sentence for a person: which model, what happened to its file, and the fix."""
    if record.source == "embedded":
        fix = (
            f"Delete {path} and start Enclave again: the built-in model is copied from its "
            "package again."
        )
    else:
        fix = (
            f"Import it again (`enclave models remove {record.id}`, then `enclave models "
            "import`), or run `enclave models verify` to check every model."
        )
    return (
        f"The model {record.id} was not used: its file {path.name} {what} since it was "
        f"imported, so it is not the file that was checked. {fix}"
    )


def _copy_hashing(src: Path, dst: Path, progress: Progress | None) -> str:
    digest = hashlib.sha256()
    total = src.stat().st_size
    done = 0
    with src.open("rb") as fin, dst.open("wb") as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest()


def _record(
    model_id: str,
    file: str,
    digest: str,
    info: GGUFInfo,
    chat_format: str,
    domains: list[str],
    licence: str | None,
    source: str,
) -> ModelRecord:
    return ModelRecord(
        id=model_id,
        file=file,
        sha256=digest,
        size_bytes=info.size_bytes,
        architecture=info.architecture,
        quantization=info.quantization,
        context_length=info.context_length,
        chat_format=chat_format,
        domains=domains,
        licence=licence or info.license or "unknown",
        source=source,
        parameters=info.size_label,
    )


def _read_manifest(folder: Path) -> list[dict[str, Any]]:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ModelFileError(f"there is no {MANIFEST_FILE} in {folder}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["models"]
        if not isinstance(entries, list) or not entries:
            raise ValueError("'models' must be a non-empty list")
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{MANIFEST_FILE} cannot be read: {exc}") from None
    out: list[dict[str, Any]] = []
    for i, e in enumerate(entries, 1):
        if not isinstance(e, dict) or not isinstance(e.get("file"), str):
            raise ModelFileError(f"{MANIFEST_FILE}: entry {i} has no 'file'")
        name = e["file"]
        if Path(name).name != name or name.startswith("."):
            raise ModelFileError(f"{MANIFEST_FILE}: {name!r} must be a file name in {folder}")
        sha = str(e.get("sha256", "")).lower()
        if not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise ModelFileError(f"{MANIFEST_FILE}: {name} has no valid sha256")
        domains = e.get("domains", ["general"])
        if isinstance(domains, str):
            domains = [domains]
        out.append({**e, "sha256": sha, "domains": list(domains)})
    return out
