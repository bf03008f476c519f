from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.paths import Paths
from app.settings import Settings, SettingsError


def test_enclave_home_puts_every_folder_under_it(tmp_path: Path) -> None:
    paths = Paths.from_env({"ENCLAVE_HOME": str(tmp_path)})
    for folder in (paths.data, paths.config, paths.cache, paths.logs, paths.site_config):
        assert folder.is_relative_to(tmp_path)


def test_without_enclave_home_platformdirs_are_used() -> None:
    paths = Paths.from_env({})
    assert "Enclave" in str(paths.data) or "enclave" in str(paths.data).lower()


def test_paths_are_not_created_until_asked(tmp_path: Path) -> None:
    paths = Paths.from_env({"ENCLAVE_HOME": str(tmp_path / "h")})
    assert not (tmp_path / "h").exists()
    paths.ensure()
    assert paths.models_dir.is_dir() and paths.workspaces_dir.is_dir()


def test_settings_defaults_file_and_env_override(tmp_path: Path) -> None:
    file = tmp_path / "settings.json"
    assert Settings.load(file).answer_only_from_documents is True
    file.write_text(json.dumps({"top_k_sources": 6}))
    settings = Settings.load(file, {"ENCLAVE_N_GPU_LAYERS": "12", "ENCLAVE_TEMPERATURE": "0"})
    assert (settings.top_k_sources, settings.n_gpu_layers, settings.temperature) == (6, 12, 0.0)


def test_bad_settings_say_what_is_wrong(tmp_path: Path) -> None:
    file = tmp_path / "settings.json"
    file.write_text("{not json")
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.load(file)
    file.write_text(json.dumps({"top_k_sources": 0}))
    with pytest.raises(SettingsError, match="top_k_sources"):
        Settings.load(file)
    file.write_text(json.dumps({"frontier_enabled": True}))  # settings can never widen policy
    with pytest.raises(SettingsError, match="frontier_enabled"):
        Settings.load(file)


def test_settings_round_trip(tmp_path: Path) -> None:
    file = tmp_path / "cfg" / "settings.json"
    Settings(top_k_sources=7).save(file)
    assert Settings.load(file).top_k_sources == 7
