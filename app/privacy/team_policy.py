"""The policy's `team` entry: the organisation's servers for shared workspaces.

Only hosts named here are ever connected to for shared workspaces; with no `team` entry there
are none, and every workspace is local. Plain (unencrypted) connections are refused off this
computer: PostgreSQL needs `sslmode` require / verify-ca / verify-full and the Chroma server
`ssl: true` unless the host is loopback. Passwords and tokens are never in the policy: they
are in the OS keyring (app.library.team). Example::

    "team": {
      "postgres": {"host": "db.example.org", "port": 5432, "dbname": "enclave",
                   "sslmode": "verify-full", "ca_file": "/etc/enclave/org-ca.pem"},
      "chroma": {"host": "vectors.example.org", "port": 8000, "ssl": true,
                 "ca_file": "/etc/enclave/org-ca.pem", "token": true}
    }
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.privacy.egress import is_loopback

SslMode = Literal["disable", "prefer", "require", "verify-ca", "verify-full"]
_ENCRYPTED = ("require", "verify-ca", "verify-full")


def absolute_ca_file(value: str | None) -> str | None:
    """A policy's `ca_file` as given, or ValueError when it is not an absolute path."""
    if value is not None and not Path(value).is_absolute():
        raise ValueError("ca_file must be an absolute path to a PEM file")
    return value


class _PostgresModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = Field(min_length=1)
    port: int = Field(5432, ge=1, le=65535)
    dbname: str = Field("enclave", min_length=1)
    user: str | None = None  # None: each person's own login (ENCLAVE_TEAM_USER, else the OS's)
    sslmode: SslMode = "verify-full"
    ca_file: str | None = None
    connect_timeout_s: int = Field(5, ge=1, le=60)

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: str | None) -> str | None:
        return absolute_ca_file(value)

    @model_validator(mode="after")
    def _encrypted_off_machine(self) -> _PostgresModel:
        if self.sslmode not in _ENCRYPTED and not is_loopback(self.host):
            raise ValueError(
                f"postgres on {self.host} needs sslmode require, verify-ca or verify-full"
            )
        return self


class _ChromaModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    host: str = Field(min_length=1)
    port: int = Field(8000, ge=1, le=65535)
    ssl: bool = True
    ca_file: str | None = None
    token: bool = False  # True: send the keyring's token as "Authorization: Bearer ..."

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: str | None) -> str | None:
        return absolute_ca_file(value)

    @model_validator(mode="after")
    def _encrypted_off_machine(self) -> _ChromaModel:
        if not self.ssl and not is_loopback(self.host):
            raise ValueError(f"the Chroma server on {self.host} needs ssl: true")
        return self


class TeamModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    postgres: _PostgresModel
    chroma: _ChromaModel


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int = 5432
    dbname: str = "enclave"
    user: str | None = None
    sslmode: SslMode = "verify-full"
    ca_file: str | None = None
    connect_timeout_s: int = 5

    @property
    def destination(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ChromaServerPolicy:
    host: str
    port: int = 8000
    ssl: bool = True
    ca_file: str | None = None
    token: bool = False

    @property
    def destination(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class TeamServers:
    """The approved team servers (Policy.team), or None on the Policy when there are none."""

    postgres: PostgresServer
    chroma: ChromaServerPolicy

    @classmethod
    def from_model(cls, model: TeamModel) -> TeamServers:
        return cls(
            postgres=PostgresServer(**model.postgres.model_dump()),
            chroma=ChromaServerPolicy(**model.chroma.model_dump()),
        )

    def approves(self, host: str, port: int) -> bool:
        """Whether host:port is one of the two approved team servers."""
        wanted = (host.lower(), port)
        return wanted in {
            (self.postgres.host.lower(), self.postgres.port),
            (self.chroma.host.lower(), self.chroma.port),
        }
