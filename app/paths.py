"""Where Enclave keeps its files: platformdirs folders, or everything under ENCLAVE_HOME.

Nothing here touches the disk at import time; `Paths.ensure()` creates the folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Enclave"
APP_AUTHOR = "Enclave"
HOME_ENV = "ENCLAVE_HOME"


@dataclass(frozen=True)
class Paths:
    data: Path  # models catalog, workspaces (indexes, manifests), conversations
    config: Path  # settings.json
    cache: Path
    logs: Path
    site_config: Path  # administrator policy (read-only for the user)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Paths:
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV)
        if home:
            root = Path(home).expanduser().resolve()
            return cls(
                data=root / "data",
                config=root / "config",
                cache=root / "cache",
                logs=root / "logs",
                site_config=root / "site-config",
            )
        import platformdirs

        return cls(
            data=Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
            config=Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
            cache=Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR)),
            logs=Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
            site_config=Path(platformdirs.site_config_dir(APP_NAME, APP_AUTHOR)),
        )

    @property
    def models_dir(self) -> Path:
        return self.data / "models"

    @property
    def workspaces_dir(self) -> Path:
        return self.data / "workspaces"

    @property
    def history_db(self) -> Path:
        return self.data / "history.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    def ensure(self) -> Paths:
        for folder in (
            self.data,
            self.config,
            self.cache,
            self.logs,
            self.models_dir,
            self.workspaces_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        return self
