"""User settings: a JSON file in the config folder, with ENCLAVE_* environment overrides.

Settings can tune the local experience; they can never widen the administrator's policy
(the frontier route is decided by app.privacy.policy alone).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import EnclaveError

ENV_PREFIX = "ENCLAVE_"


class SettingsError(EnclaveError):
    """The settings file or an override is invalid; the message says which and why."""


class LimitSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_file_mb: float = Field(200.0, gt=0)
    max_pages: int = Field(5000, gt=0)
    max_decompressed_mb: float = Field(500.0, gt=0)
    parse_timeout_s: float = Field(120.0, gt=0)
    parse_ocr_timeout_s: float = Field(600.0, gt=0)  # what OCR may add (scanned pages, images)
    parse_memory_mb: int = Field(2048, gt=64)
    max_chars: int = Field(20_000_000, gt=0)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default_model: str = "smollm2-135m-instruct"
    n_ctx: int = Field(4096, ge=512)
    n_threads: int | None = Field(None, ge=1)  # None: the number of physical cores
    n_gpu_layers: int = Field(0, ge=-1)  # -1: offload every layer the back-end can take
    max_answer_tokens: int = Field(384, ge=16)
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    top_k_sources: int = Field(4, ge=1, le=20)
    answer_only_from_documents: bool = True
    min_source_similarity: float = Field(0.25, ge=-1.0, le=1.0)
    # 800 characters keep ordinary prose under all-MiniLM-L6-v2's 256 word pieces (measured:
    # CUAD p95 178, max 201); see rag/chunking.py.
    chunk_chars: int = Field(800, ge=200)
    chunk_overlap: int = Field(120, ge=0)
    limits: LimitSettings = Field(default_factory=LimitSettings)

    @classmethod
    def load(cls, path: Path, environ: dict[str, str] | None = None) -> Settings:
        """Read `path` (missing file: defaults), then apply ENCLAVE_<FIELD> overrides."""
        data: dict[str, Any] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise SettingsError(f"The settings file {path} cannot be read: {exc}") from exc
            if not isinstance(data, dict):
                raise SettingsError(f"The settings file {path} must hold a JSON object.")
        env = os.environ if environ is None else environ
        for name in cls.model_fields:
            if name == "limits":
                continue
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None:
                data[name] = _parse_env_value(raw)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise SettingsError(f"Invalid settings ({path}): {problems}") from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        os.replace(tmp, path)


def _parse_env_value(raw: str) -> Any:
    lowered = raw.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered in {"none", "null", ""}:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw
