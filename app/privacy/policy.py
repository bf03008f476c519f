"""The administrator's policy: whether a frontier route (a remote model) exists, and on what terms.

The policy is a JSON file in the system-wide site config folder (`Paths.site_config/policy.json`),
or the file named by ENCLAVE_POLICY (managed deployments, tests). It is read, never written, by the
app. No user setting or UI control can widen it: `app.settings.Settings` has no frontier fields, and
every frontier decision in `app.frontier.gateway` asks this module.

Fail closed:
- no policy file: no frontier route at all (`Policy.closed()`);
- a file that cannot be read or parsed, an unknown key, an endpoint that is not https (loopback
  excepted), an unknown version: no frontier route, and `Policy.problem` says why in words.

Example::

    {
      "version": 1,
      "frontier": {
        "enabled": true,
        "endpoints": [
          {"id": "org-gateway", "base_url": "https://llm.example.org/v1", "model": "gpt-4o",
           "label": "Our gateway", "api": "openai"}
        ],
        "redaction_required": true,
        "review_required": true,
        "workspaces": ["clinic-notes"],
        "max_chunks": 4,
        "timeout_s": 60
      },
      "inference_servers": [
        {"id": "team-70b", "base_url": "https://llm.hospital.internal:8000/v1",
         "model": "llama-3.1-70b-instruct", "label": "Team 70B", "domains": ["clinical"],
         "tiers": ["verify"], "ca_file": "/etc/ssl/certs/hospital-root-ca.pem"}
      ]
    }

`inference_servers` are the organisation's own OpenAI-compatible servers on its network (vLLM,
llama.cpp's server): models in the portfolio like local ones (app.chat.servers), routed to by
domain or tier, distinct from the frontier route. Redaction is the administrator's choice
(`"redaction": true`), off by default; review before sending is not available for them (a
request that must be reviewed belongs on a frontier endpoint). Plain http is accepted off
loopback only with `"allow_http": true`; `verify_tls: false` turns certificate checks off.
A server that needs a key (`"requires_key": true`) reads it from the OS keyring under its id.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.errors import EnclaveError
from app.privacy.egress import is_loopback
from app.privacy.team_policy import TeamModel, TeamServers, absolute_ca_file
from models.openai_client import parse_base_url

if TYPE_CHECKING:
    from app.paths import Paths

POLICY_ENV = "ENCLAVE_POLICY"
POLICY_FILENAME = "policy.json"
ALL_WORKSPACES = "*"
# Redaction's measured recall on unseen text is below the 0.95 target (bench/results/redaction.md),
# so every request is shown for review whatever the policy file says. Set to False only when the
# first-contact figures there meet the target.
REVIEW_ALWAYS_REQUIRED = True


class PolicyError(EnclaveError):
    """The policy file is malformed; the message names the file and the problem."""


class PolicyRefusal(EnclaveError):
    """The policy does not allow what was asked. `reason` is a sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _EndpointModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    base_url: str
    model: str = Field(min_length=1)
    label: str = ""
    api: Literal["openai", "azure"] = "openai"
    api_version: str | None = None  # Azure OpenAI's ?api-version=
    requires_key: bool = True
    ca_file: str | None = None  # PEM file of the organisation's CA, for an internal gateway

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: str | None) -> str | None:
        return absolute_ca_file(value)

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        base = parse_base_url(value)  # ValueError: not http(s), credentials, query, bad port
        if base.scheme == "http" and not is_loopback(base.host):
            raise ValueError(f"{value!r} is plain http: only https is allowed off this computer")
        return value.strip().rstrip("/")


class _FrontierModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    endpoints: list[_EndpointModel] = Field(default_factory=list)
    redaction_required: bool = True
    review_required: bool = True
    workspaces: list[str] = Field(default_factory=list)
    max_chunks: int = Field(4, ge=0, le=20)
    timeout_s: float = Field(60.0, gt=0, le=600)

    @field_validator("endpoints")
    @classmethod
    def _unique_ids(cls, value: list[_EndpointModel]) -> list[_EndpointModel]:
        ids = [e.id for e in value]
        if len(ids) != len(set(ids)):
            raise ValueError("endpoint ids must be unique")
        return value


ServerDomain = Literal["clinical", "legal", "general"]
ServerTier = Literal["direct", "reasoning", "self_consistency", "verify"]


class _ServerModel(BaseModel):
    """One on-premises inference server (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    base_url: str
    model: str = Field(min_length=1)
    label: str = ""
    domains: list[ServerDomain] = Field(default_factory=list)
    tiers: list[ServerTier] = Field(default_factory=list)
    verify_tls: bool = True
    ca_file: str | None = None
    requires_key: bool = False
    allow_http: bool = False
    redaction: bool = False
    review: bool = False
    context_length: int = Field(8192, ge=512, le=1_048_576)
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    read_timeout_s: float = Field(60.0, gt=0, le=600)
    timeout_s: float = Field(300.0, gt=0, le=3600)

    @field_validator("review")
    @classmethod
    def _no_review(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "review before sending is not available for an on-premises server; set it to "
                "false, or approve the server as a frontier endpoint, whose requests are "
                "always reviewed"
            )
        return value

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: str | None) -> str | None:
        return absolute_ca_file(value)

    @field_validator("base_url")
    @classmethod
    def _strip_url(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _check_url(self) -> _ServerModel:
        base = parse_base_url(self.base_url)  # ValueError: not http(s), credentials, query...
        if base.scheme == "http" and not is_loopback(base.host) and not self.allow_http:
            raise ValueError(
                f"{self.base_url!r} is plain http: use https, or set allow_http to true to "
                "accept unencrypted traffic on your network"
            )
        if self.ca_file is not None and (base.scheme == "http" or not self.verify_tls):
            raise ValueError("ca_file needs an https base_url with verify_tls left true")
        return self


class _ServeModel(BaseModel):
    """`"serve": {"listen": ["10.20.0.5"]}`: the addresses (IP literals: one LAN interface, or
    "0.0.0.0" for every IPv4 interface) that `enclave serve` may listen on besides loopback.
    Absent, empty, or in a policy that cannot be used: loopback only. Listening lets other
    computers reach the local API; it lets nothing leave (the egress guard is unchanged)."""

    model_config = ConfigDict(extra="forbid")
    listen: list[str] = Field(default_factory=list)

    @field_validator("listen")
    @classmethod
    def _ip_literals(cls, value: list[str]) -> list[str]:
        try:  # IP literals only: a host name would need a DNS lookup to mean anything
            return [str(ipaddress.ip_address(v.strip())) for v in value]
        except ValueError as exc:
            raise ValueError(f"serve.listen holds IP addresses only ({exc})") from None


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    frontier: _FrontierModel = Field(default_factory=_FrontierModel)
    serve: _ServeModel = Field(default_factory=_ServeModel)
    team: TeamModel | None = None  # shared workspaces' servers (app.privacy.team_policy)
    inference_servers: list[_ServerModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_server_ids(self) -> _PolicyModel:
        ids = [s.id for s in self.inference_servers]
        if len(ids) != len(set(ids)):
            raise ValueError("inference server ids must be unique")
        shared = set(ids) & {e.id for e in self.frontier.endpoints}
        if shared:
            raise ValueError(
                f"{sorted(shared)[0]!r} names both an inference server and a frontier endpoint"
            )
        return self


class _AtBaseUrl:
    """The host, port and "host:port" destination of an approved `base_url`."""

    base_url: str

    @property
    def host(self) -> str:
        return parse_base_url(self.base_url).host

    @property
    def port(self) -> int:
        return parse_base_url(self.base_url).port

    @property
    def destination(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Endpoint(_AtBaseUrl):
    """One approved OpenAI-compatible endpoint."""

    id: str
    base_url: str
    model: str
    label: str = ""
    api: Literal["openai", "azure"] = "openai"
    api_version: str | None = None
    requires_key: bool = True
    ca_file: str | None = None  # trust this CA (PEM) instead of the system's, for this endpoint


@dataclass(frozen=True)
class InferenceServer(_AtBaseUrl):
    """One approved on-premises OpenAI-compatible server: a model of the portfolio."""

    id: str
    base_url: str
    model: str
    label: str = ""
    domains: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    verify_tls: bool = True
    ca_file: str | None = None
    requires_key: bool = False
    allow_http: bool = False
    redaction: bool = False
    context_length: int = 8192
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    timeout_s: float = 300.0


@dataclass(frozen=True)
class Policy:
    """The administrator's decision. Immutable: build it with load_policy() or parse_policy()."""

    frontier_enabled: bool = False
    endpoints: tuple[Endpoint, ...] = ()
    redaction_required: bool = True
    review_required: bool = True
    workspaces: frozenset[str] = field(default_factory=frozenset)
    max_chunks: int = 4
    timeout_s: float = 60.0
    source: Path | None = None  # the file it came from; None for the built-in default
    problem: str | None = None  # set when a policy file exists but could not be used
    serve_listen: frozenset[str] = field(default_factory=frozenset)  # serve.listen
    team: TeamServers | None = None  # the approved team servers; None: every workspace local
    inference_servers: tuple[InferenceServer, ...] = ()  # on-premises models (not frontier)

    @classmethod
    def closed(cls, source: Path | None = None, problem: str | None = None) -> Policy:
        """No frontier route at all (the default, and what any problem falls back to)."""
        return cls(source=source, problem=problem)

    @property
    def frontier_route_exists(self) -> bool:
        return self.frontier_enabled and bool(self.endpoints) and self.problem is None

    def is_allowed(self, workspace_id: str) -> bool:
        """May this workspace use a frontier model at all? (The router asks this.)"""
        return self.frontier_route_exists and (
            ALL_WORKSPACES in self.workspaces or workspace_id in self.workspaces
        )

    def endpoint(self, endpoint_id: str | None = None) -> Endpoint:
        """The approved endpoint with this id (None: the first). Raises PolicyRefusal otherwise."""
        if not self.frontier_route_exists:
            raise PolicyRefusal(self.why_closed())
        if endpoint_id is None:
            return self.endpoints[0]
        for endpoint in self.endpoints:
            if endpoint.id == endpoint_id:
                return endpoint
        raise PolicyRefusal(
            f"The endpoint {endpoint_id!r} is not approved by your administrator's policy. "
            "Only these may be used: " + ", ".join(e.id for e in self.endpoints) + "."
        )

    def check_url(self, base_url: str, model: str | None = None) -> Endpoint:
        """The approved endpoint for this exact base URL (and model), or PolicyRefusal."""
        wanted = base_url.rstrip("/")
        for endpoint in self.endpoints if self.frontier_route_exists else ():
            if endpoint.base_url == wanted and (model is None or model == endpoint.model):
                return endpoint
        raise PolicyRefusal(
            f"{base_url} is not an approved destination. Enclave sends nothing to it; only "
            "your administrator's policy can approve an endpoint."
        )

    def check(self, workspace_id: str, endpoint_id: str | None = None) -> Endpoint:
        """Everything the frontier route needs before preparing a request, or PolicyRefusal."""
        endpoint = self.endpoint(endpoint_id)
        if not self.is_allowed(workspace_id):
            raise PolicyRefusal(
                "Your administrator's policy does not allow this workspace to use a frontier "
                "model. The answer stays on this computer."
            )
        return endpoint

    def inference_server(self, server_id: str) -> InferenceServer:
        """The approved on-premises server with this id, or PolicyRefusal."""
        for server in self.inference_servers:
            if server.id == server_id:
                return server
        raise PolicyRefusal(
            f"{server_id!r} is not an inference server approved by your administrator's policy."
        )

    def check_server_url(self, base_url: str) -> InferenceServer:
        """The approved on-premises server at this exact base URL, or PolicyRefusal."""
        wanted = base_url.strip().rstrip("/")
        for server in self.inference_servers:
            if server.base_url == wanted:
                return server
        raise PolicyRefusal(
            f"{wanted} is not an approved inference server, so Enclave sends nothing to it; "
            "only your administrator's policy can approve one."
        )

    def allows_listen(self, host: str) -> bool:
        """May `enclave serve` listen on `host`? Loopback always; another address only when
        this (usable) policy lists it in serve.listen."""
        if is_loopback(host):
            return True
        try:
            address = str(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            return False
        return self.problem is None and address in self.serve_listen

    def why_closed(self) -> str:
        if self.problem:
            return self.problem
        if self.source is None:
            return (
                "No administrator policy is installed, so Enclave has no frontier route: "
                "everything stays on this computer."
            )
        return "Your administrator's policy does not allow frontier models."


def policy_path(paths: Paths, environ: dict[str, str] | None = None) -> Path:
    """ENCLAVE_POLICY if set, else the site config folder's policy.json."""
    env = os.environ if environ is None else environ
    override = env.get(POLICY_ENV)
    if override:
        return Path(override).expanduser()
    return paths.site_config / POLICY_FILENAME


def parse_policy(data: Any, source: Path | None = None) -> Policy:
    """Validate a decoded policy document. Raises PolicyError with a readable message."""
    where = str(source) if source else "the policy"
    if not isinstance(data, dict):
        raise PolicyError(f"{where} must hold a JSON object.")
    try:
        model = _PolicyModel.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: "
            + str(err["msg"]).removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise PolicyError(f"{where} is invalid: {problems}") from exc
    frontier = model.frontier
    return Policy(
        frontier_enabled=frontier.enabled,
        endpoints=tuple(Endpoint(**e.model_dump()) for e in frontier.endpoints),
        redaction_required=frontier.redaction_required,
        review_required=frontier.review_required or REVIEW_ALWAYS_REQUIRED,
        workspaces=frozenset(frontier.workspaces),
        max_chunks=frontier.max_chunks,
        timeout_s=frontier.timeout_s,
        source=source,
        serve_listen=frozenset(model.serve.listen),
        team=TeamServers.from_model(model.team) if model.team is not None else None,
        inference_servers=tuple(_server(s) for s in model.inference_servers),
    )


def _server(model: _ServerModel) -> InferenceServer:
    data = model.model_dump(exclude={"review"})
    data.update(domains=tuple(data["domains"]), tiers=tuple(data["tiers"]))
    return InferenceServer(**data)


def load_policy(paths: Paths, environ: dict[str, str] | None = None) -> Policy:
    """Read the policy. Never raises: a missing file gives no frontier route; a broken one also
    gives no frontier route, with `problem` saying what is wrong (show it to the user)."""
    path = policy_path(paths, environ)
    env = os.environ if environ is None else environ
    if not path.exists():
        if env.get(POLICY_ENV):
            return Policy.closed(
                source=path,
                problem=(
                    f"The policy file named by {POLICY_ENV} ({path}) does not exist, so frontier "
                    "models are disabled. Ask your administrator."
                ),
            )
        return Policy.closed()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return parse_policy(data, source=path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, PolicyError) as exc:
        detail = str(exc) if isinstance(exc, PolicyError) else f"{path} cannot be read: {exc}"
        return Policy.closed(
            source=path,
            problem=(
                f"The administrator policy is malformed, so frontier models are disabled "
                f"(nothing will leave this computer). {detail}"
            ),
        )
